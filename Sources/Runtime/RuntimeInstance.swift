import Foundation
import ImageStore

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
    public static func name(_ kind: String) -> String { ProcessIdentity.uniqueName(kind) }

    /// True when `instance` names a process that is still running. Names
    /// of another form (an older fnrt's, a test's) are never alive.
    public static func isAlive(_ instance: String) -> Bool {
        let parts = instance.split(separator: "-")
        guard parts.count >= 4 else { return false }
        return ProcessIdentity(nameFields: Array(parts.suffix(3)))?.isRunning ?? false
    }
}
