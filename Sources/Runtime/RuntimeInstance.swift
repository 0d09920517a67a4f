import Foundation

/// The name of a runtime instance (`fnrt serve`, `fnrt run`): its kind, its
/// process ID, the process's start time and a random part, as in
/// `serve-4242-981234-9f3a01c2`, which the drivers put on every container
/// it starts (one process may run several instances: a test, an embedding). The next instance on the same
/// `$FNRT_HOME` removes the containers of instances whose process is gone
/// (`listOrphans`), and leaves those of one still running, whose calls are
/// in flight: a second `fnrt serve`, or an `fnrt run` beside one. The start
/// time tells a process from a later one that got the same ID.
public enum RuntimeInstance {
    /// A name for this process's instance of `kind`.
    public static func name(_ kind: String) -> String {
        let pid = getpid()
        return "\(kind)-\(pid)-\(startTime(of: pid) ?? 0)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// True when `instance` names a process that is still running. Names
    /// of another form (an older fnrt's, a test's) are never alive.
    public static func isAlive(_ instance: String) -> Bool {
        let parts = instance.split(separator: "-")
        guard parts.count >= 4, let pid = pid_t(parts[parts.count - 3]), let started = UInt64(parts[parts.count - 2]), pid > 0 else {
            return false
        }
        return startTime(of: pid) == started
    }

    /// The process's start time, in clock ticks after boot (`/proc/PID/stat`,
    /// field 22); nil when there is no such process.
    static func startTime(of pid: pid_t) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let commandEnd = stat.lastIndex(of: ")") else { return nil }
        // After the command (which may hold spaces and parentheses): field 3 on.
        let fields = stat[stat.index(after: commandEnd)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}
