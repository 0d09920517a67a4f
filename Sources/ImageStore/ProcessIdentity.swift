import Foundation

/// A process as the names of what it makes carry it (`PID-STARTTIME`), so
/// that a later process can tell whether the maker still runs: its ID and
/// its start time, in clock ticks after boot, which tells it from a later
/// process that got the same ID. Containers (`RuntimeInstance`) and the
/// store's temporary files and directories are named with it.
public struct ProcessIdentity: Equatable, Sendable, CustomStringConvertible {
    public let pid: pid_t
    public let startTime: UInt64

    public init(pid: pid_t, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    /// This process.
    public static let current = ProcessIdentity(pid: getpid(), startTime: status(of: getpid())?.startTime ?? 0)

    /// The running process `pid`; nil when there is none.
    public init?(runningProcess pid: pid_t) {
        guard let status = Self.status(of: pid), status.running else { return nil }
        self.init(pid: pid, startTime: status.startTime)
    }

    /// The process a `uniqueName` names: `fields` are the name's
    /// dash-separated parts after its prefix (`PID`, `STARTTIME`, `RANDOM`);
    /// nil for parts of another form.
    public init?(nameFields fields: [Substring]) {
        guard fields.count == 3, let pid = pid_t(fields[0]), pid > 0, let startTime = UInt64(fields[1]) else { return nil }
        self.init(pid: pid, startTime: startTime)
    }

    /// `PREFIX-PID-STARTTIME-RANDOM`: a name for something this process
    /// makes (a runtime instance, a temporary file) that no other process,
    /// nor another call here, makes, and that tells its maker (`init(nameFields:)`).
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(current)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    public var description: String { "\(pid)-\(startTime)" }

    /// True while the process runs. A killed process its parent has not
    /// reaped yet (a zombie) has ended: it looked alive until then, and
    /// `fnrt serve` left a killed instance's containers running.
    public var isRunning: Bool {
        guard let status = Self.status(of: pid) else { return false }
        return status.running && status.startTime == startTime
    }

    /// The process's start time (`/proc/PID/stat`, field 22), and whether
    /// it runs (field 3 is not `Z`, a zombie, or `X`, dead); nil when there is no such process.
    static func status(of pid: pid_t) -> (startTime: UInt64, running: Bool)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let commandEnd = stat.lastIndex(of: ")") else { return nil }
        // After the command (which may hold spaces and parentheses): field 3 on.
        let fields = stat[stat.index(after: commandEnd)...].split(separator: " ")
        guard fields.count > 19, let startTime = UInt64(fields[19]) else { return nil }
        return (startTime, fields[0] != "Z" && fields[0] != "X")
    }

    /// A temporary name in `directory` (a `uniqueName`) that
    /// `removeLeftovers(in:prefix:)` removes once this process is gone.
    static func temporaryPath(in directory: String, prefix: String = ".tmp") -> String {
        "\(directory)/\(uniqueName(prefix))"
    }

    /// Removes the temporary files and directories in `directory` left by
    /// processes that are gone (killed mid-pull, mid-unpack); those of a
    /// running process, and names of another form, stay.
    static func removeLeftovers(in directory: String, prefix: String = ".tmp") {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix + "-") {
            guard let maker = ProcessIdentity(nameFields: name.dropFirst(prefix.count + 1).split(separator: "-")), !maker.isRunning else { continue }
            RootDirectory.removeTree("\(directory)/\(name)")
        }
    }
}
