import Foundation
import Runtime

/// Where tests write their files: one directory per test process,
/// `$TMPDIR/fnrt-tests-<pid>`, removed when the process exits. A run that
/// was killed cannot remove its own; the next run removes every such
/// directory whose process is gone (`removeStale()`), so test runs leave
/// nothing behind in the temporary directory.
public enum Scratch {
    static let prefix = "fnrt-tests-"

    /// This process's directory, made (and stale ones removed) on first use.
    public static let root: String = {
        removeStale()
        let root = NSTemporaryDirectory() + prefix + String(getpid())
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            fatalError("Scratch: cannot make \(root): \(error)")
        }
        atexit { try? FileManager.default.removeItem(atPath: Scratch.root) }
        return root
    }()

    /// A new directory under `root`, named `<name>-<random>`.
    public static func directory(_ name: String) -> String {
        let path = path(name)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A new path under `root`, named `<name>-<random>`, not made.
    public static func path(_ name: String) -> String {
        "\(root)/\(name)-\(UUID().uuidString.prefix(8))"
    }

    /// True when `path` lies in the directory of a test process that is gone.
    public static func isStale(_ path: String) -> Bool {
        let parent = NSTemporaryDirectory()
        guard path.hasPrefix(parent + prefix) else { return false }
        let name = path.dropFirst(parent.count).prefix { $0 != "/" }
        return isStaleName(name)
    }

    /// Removes the directories of test processes that are gone, and first
    /// the OCI containers (runc, crun) they left running: their state is
    /// in those directories, and without it nothing could stop them.
    public static func removeStale() {
        let parent = NSTemporaryDirectory()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where isStaleName(Substring(name)) {
            deleteOCIContainers(under: parent + name)
            try? FileManager.default.removeItem(atPath: parent + name)
        }
    }

    /// `delete --force` for every container in the OCI drivers' state roots
    /// (`<home>/oci-state/<instance>/<id>`) of the homes within two levels of `directory`.
    private static func deleteOCIContainers(under directory: String) {
        let files = FileManager.default
        func children(_ path: String) -> [String] { ((try? files.contentsOfDirectory(atPath: path)) ?? []).map { "\(path)/\($0)" } }
        let homes = [directory] + children(directory) + children(directory).flatMap(children)
        for stateRoot in homes.flatMap({ children($0 + "/oci-state") }) {
            // Each runtime's own: crun "deletes" runc's state without stopping its container.
            guard let runtime = OCIDriver.runtime(thatMadeStateIn: stateRoot) else { continue }
            for container in children(stateRoot) {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: runtime)
                process.arguments = ["--root", stateRoot, "delete", "--force", (container as NSString).lastPathComponent]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                guard (try? process.run()) != nil else { continue }
                process.waitUntilExit()
            }
        }
    }

    /// `fnrt-tests-<pid>` of a process that no longer exists.
    private static func isStaleName(_ name: Substring) -> Bool {
        guard name.hasPrefix(prefix), let pid = pid_t(name.dropFirst(prefix.count)), pid > 0, pid != getpid() else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}
