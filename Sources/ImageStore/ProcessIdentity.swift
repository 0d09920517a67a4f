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
    public static let current = ProcessIdentity(pid: getpid(), startTime: startTime(of: getpid()) ?? 0)

    /// The running process `pid`; nil when there is none.
    public init?(runningProcess pid: pid_t) {
        guard let startTime = Self.startTime(of: pid) else { return nil }
        self.init(pid: pid, startTime: startTime)
    }

    /// Reads `PID-STARTTIME`.
    public init?<S: StringProtocol>(parsing text: S) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let pid = pid_t(parts[0]), pid > 0, let startTime = UInt64(parts[1]) else { return nil }
        self.init(pid: pid, startTime: startTime)
    }

    public var description: String { "\(pid)-\(startTime)" }

    /// True while the process runs.
    public var isRunning: Bool { Self.startTime(of: pid) == startTime }

    /// The process's start time (`/proc/PID/stat`, field 22); nil when there is no such process.
    static func startTime(of pid: pid_t) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let commandEnd = stat.lastIndex(of: ")") else { return nil }
        // After the command (which may hold spaces and parentheses): field 3 on.
        let fields = stat[stat.index(after: commandEnd)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    /// A temporary name in `directory` (`PREFIX-PID-STARTTIME-RANDOM`) that
    /// `removeLeftovers(in:prefix:)` removes once this process is gone.
    static func temporaryPath(in directory: String, prefix: String = ".tmp") -> String {
        "\(directory)/\(prefix)-\(current)-\(UUID().uuidString.prefix(8))"
    }

    /// Removes the temporary files and directories in `directory` left by
    /// processes that are gone (killed mid-pull, mid-unpack); those of a
    /// running process, and names of another form, stay.
    static func removeLeftovers(in directory: String, prefix: String = ".tmp") {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix + "-") {
            let parts = name.dropFirst(prefix.count + 1).split(separator: "-")
            guard parts.count == 3, let maker = ProcessIdentity(parsing: "\(parts[0])-\(parts[1])"), !maker.isRunning else { continue }
            RootDirectory.removeTree("\(directory)/\(name)")
        }
    }
}
