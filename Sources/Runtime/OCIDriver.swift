import Foundation
import ImageStore
import OCI
import Synchronization

/// Runs function containers with an OCI runtime (crun, or runc) directly on
/// fnrt's own unpacked, cached root filesystems: no daemon in the way, the
/// route to the shortest cold starts. The same hardening as `DockerDriver`:
/// new network namespace (loopback only), read-only root, tmpfs /tmp, iofs
/// bound at /tmp/iofs, no capabilities, no-new-privileges, a non-root user,
/// pids, open-files, memory and CPU limits.
public final class OCIDriver: ContainerDriver {
    public let name: String
    /// The runtime binary (`/usr/bin/crun`, `/usr/sbin/runc`).
    public let runtime: String
    let store: ContentStore
    let unpacker: Unpacker
    let stateRoot: String
    let bundles: String
    let iofsRoot: String
    public let instance: String
    /// Each container's runtime process, and the log of its output.
    private let processes = Mutex<[String: (process: ChildProcess, output: ContainerOutputLog)]>([:])

    /// Uses `runtime`, else `$FNRT_OCI_RUNTIME`, else crun where the host's
    /// cgroups allow it (see `crunAcceptsCgroups`), else runc.
    public init(store: ContentStore, home: FnrtHome, instance: String, runtime: String? = nil) throws {
        try Container.checkSocketPath(iofsRoot: home.path + "/iofs", home: home.path)
        let preferred = (Self.crunAcceptsCgroups() ? Self.installPaths["crun"]! : []) + Self.installPaths["runc"]!
        let candidates = [runtime, ProcessInfo.processInfo.environment["FNRT_OCI_RUNTIME"]].compactMap { $0 } + preferred
        guard let found = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw ContainerError.launch(function: "-", reason: "no OCI runtime found (install crun or runc)")
        }
        self.runtime = found
        self.name = (found as NSString).lastPathComponent
        self.store = store
        self.unpacker = try Unpacker(store: store, home: home)
        // A state root of its own: `runc list` reads every container's state
        // in its root, and fails when another instance deletes one meanwhile.
        self.stateRoot = home.path + "/oci-state/" + instance
        self.bundles = home.path + "/bundles"
        self.iofsRoot = home.path + "/iofs"
        self.instance = instance
        for dir in [stateRoot, bundles, iofsRoot] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        }
    }

    var prefix: String { "fnrt-\(instance)-" }

    /// The root filesystems the containers of every instance under `home`
    /// run from (each bundle's `root.path`): `fnrt image prune` leaves them.
    public static func rootsInUse(home: FnrtHome) -> Set<String> {
        let bundles = home.path + "/bundles"
        var roots = Set<String>()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: bundles)) ?? [] {
            guard let data = FileManager.default.contents(atPath: "\(bundles)/\(name)/config.json"),
                  let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let root = config["root"] as? [String: Any], let path = root["path"] as? String else { continue }
            roots.insert(path)
        }
        return roots
    }

    /// A container's iofs directory: named by the random end of its ID
    /// (`Container.randomName()`), short so that long homes still fit a socket path.
    func iofs(of id: String) -> String { "\(iofsRoot)/\(id.suffix(Container.randomNameLength))" }

    /// The container's host name: the function's name, cut to the 64 bytes
    /// a Linux host name holds (Fn allows 255; the runtimes refuse more than 64).
    static func hostname(for function: String) -> String {
        String(decoding: function.utf8.prefix(64), as: UTF8.self)
    }

    /// Docker's `PATH` for an image that sets none: a relative entrypoint
    /// (`python3`) is looked up in it.
    static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Where Debian and most distributions install each runtime.
    static let installPaths = ["crun": ["/usr/bin/crun"], "runc": ["/usr/sbin/runc", "/usr/bin/runc"]]

    /// The runtime binary that made the containers in state root `root`,
    /// told by their state files (runc writes `state.json`, crun `status`):
    /// `current` when it is that runtime (or the root holds none), else where
    /// that runtime is installed. Another runtime cannot stop them (crun's
    /// `delete --force` of a runc container drops its state and leaves it
    /// running). Nil when that runtime is not installed: its containers are
    /// left for an instance that has it.
    public static func runtime(thatMadeStateIn root: String, preferring current: String? = nil) -> String? {
        guard let id = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).first else { return current }
        let maker = FileManager.default.fileExists(atPath: "\(root)/\(id)/state.json") ? "runc" : "crun"
        if let current, (current as NSString).lastPathComponent == maker { return current }
        return installPaths[maker]?.first { access($0, X_OK) == 0 }
    }

    /// True on a unified (cgroup v2) host, and on a hybrid one (v1
    /// controllers, plus a cgroup2 mount at /sys/fs/cgroup/unified) whose
    /// cgroup2 mount has no controller of its own: crun refuses a hybrid host
    /// otherwise ("cgroups in hybrid mode not supported"). runc takes both.
    /// False on a v1-only host, where crun may run but fnrt has not been
    /// tried: deliberately conservative.
    public static func crunAcceptsCgroups(root: String = "/sys/fs/cgroup") -> Bool {
        if access("\(root)/cgroup.controllers", F_OK) == 0 { return true }
        guard let controllers = try? String(contentsOfFile: "\(root)/unified/cgroup.controllers", encoding: .utf8) else { return false }
        return controllers.allSatisfy(\.isWhitespace)
    }

    public func start(_ spec: FunctionSpec) async throws -> Container {
        let function = "\(spec.app)/\(spec.name)"
        let (manifest, image) = try store.image(spec.image)
        let rootfs = try await onOwnThread { [unpacker] in try unpacker.rootfs(for: manifest.layers).path }

        let id = prefix + Container.randomName()
        let iofs = iofs(of: id)
        let bundle = "\(bundles)/\(id)"
        guard mkdir(iofs, 0o777) == 0, chmod(iofs, 0o777) == 0 else { throw StoreError.io(path: iofs, operation: "create", errno: errno) }
        let container = Container(id: id, iofs: iofs)
        do {
            try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
            let args = (image.config?.Entrypoint ?? []) + (image.config?.Cmd ?? [])
            guard !args.isEmpty else { throw ContainerError.launch(function: function, reason: "\(spec.image) has no entrypoint or command") }
            let imageUser = image.config?.User ?? ""
            let user = try Self.user(spec.user ?? (["", "root", "0", "0:0"].contains(imageUser) ? "1000:1000" : imageUser),
                                     rootfs: rootfs, function: function)
            var env = (image.config?.Env ?? []) + spec.environment
            if !env.contains(where: { $0.hasPrefix("PATH=") }) { env.insert(Self.defaultPath, at: 0) }
            if !env.contains(where: { $0.hasPrefix("HOME=") }) { env.append("HOME=\(user.home)") }
            let config = OCIRuntimeSpec.make(rootfs: rootfs, args: args, env: env, cwd: image.config?.WorkingDir ?? "/", user: user,
                                             hostname: Self.hostname(for: spec.name), iofs: iofs, spec: spec)
            try Self.makeMountPoints(in: rootfs, for: config.mounts.map(\.destination))
            try Self.writeConfig(config.encoded(), to: "\(bundle)/config.json")

            // The runtime stays in the foreground: its exit is the container's.
            let output = try ContainerOutputLog(path: "\(bundle)/output.log")
            defer { output.closeWriteEnd() }  // the child has its copies
            let process: ChildProcess
            do {
                process = try ChildProcess(path: runtime, arguments: ["--root", stateRoot, "run", "--bundle", bundle, id], output: output.writeEnd)
            } catch {
                output.discard()
                throw error
            }
            processes.withLock { $0[id] = (process, output) }
            return container
        } catch {
            try? await remove(container)
            if error is ContainerError { throw error }
            throw ContainerError.launch(function: function, reason: "\(error)")
        }
    }

    /// Writes the bundle's `config.json` with no `fsync` (Foundation's
    /// `Data.write` makes one: a disk flush on every cold start, for a file
    /// that lives as long as its container).
    static func writeConfig(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw StoreError.io(path: path, operation: "create", errno: errno) }
        defer { close(fd) }
        try data.withUnsafeBytes { bytes in
            var written = 0
            while written < bytes.count {
                let count = write(fd, bytes.baseAddress! + written, bytes.count - written)
                if count > 0 { written += count } else if count == 0 || errno != EINTR {
                    throw StoreError.io(path: path, operation: "write", errno: count == 0 ? EIO : errno)
                }
            }
        }
    }

    /// The top-level directories of the runtime spec's mount `destinations`
    /// (`/dev/pts` needs `dev`), made in the (shared, cached) root filesystem
    /// before any runtime runs on it. crun makes a missing one itself, and two
    /// starts of one image at once then race ("cannot mkdir `proc`: File
    /// exists"). `mkdir` never follows a symlink an image put there (EEXIST),
    /// and the runtime mounts through them safely.
    public static func makeMountPoints(in rootfs: String, for destinations: [String]) throws {
        let names = Set(destinations.compactMap { $0.split(separator: "/").first.map(String.init) })
        for name in names.sorted() {
            let path = "\(rootfs)/\(name)"
            guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw StoreError.io(path: path, operation: "create", errno: errno) }
        }
    }

    /// The numeric ids and home of `user` (names looked up in the image: `ImageUser`).
    static func user(_ user: String, rootfs: String, function: String) throws -> ImageUser.Resolved {
        do {
            return try ImageUser.resolve(user, rootfs: rootfs)
        } catch {
            throw ContainerError.launch(function: function, reason: "\(error)")
        }
    }

    public func waitUntilListening(_ container: Container, spec: FunctionSpec, timeout: Duration) async throws {
        // The runtime runs in the foreground: its exit is the container's.
        let process = processes.withLock { $0[container.id]?.process }
        try await waitForListener(container, spec: spec, timeout: timeout) {
            guard let process else { return nil }
            return Int(await process.waitForExit())
        }
    }

    public func stop(_ container: Container, grace: Duration) async throws {
        _ = try? await runtimeCommand(["kill", container.id, "TERM"])
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline, try await state(container) == .running {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await kill(container)
    }

    public func kill(_ container: Container) async throws {
        _ = try? await runtimeCommand(["kill", "--all", container.id, "KILL"])
    }

    public func remove(_ container: Container) async throws {
        _ = try? await runtimeCommand(["delete", "--force", container.id])
        if let (process, output) = processes.withLock({ $0.removeValue(forKey: container.id) }) {
            if process.exitStatus == nil { process.signal(SIGKILL) }
            output.discard()
        }
        RootDirectoryCleaner.remove(container.iofs)
        RootDirectoryCleaner.remove("\(bundles)/\(container.id)")
        rmdir(stateRoot)  // only when this instance has no container left; the runtime makes it again
    }

    public func state(_ container: Container) async throws -> ContainerState {
        let (status, output) = try await runtimeCommand(["state", container.id])
        guard status == 0, let data = output.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return .missing }
        switch object["status"] as? String {
        case "running", "created": return .running
        default:
            let code = processes.withLock { $0[container.id] }?.process.exitStatus.map(Int.init) ?? -1
            return .exited(code: code)
        }
    }

    public func logs(_ container: Container, lines: Int) async -> [String] {
        if let output = processes.withLock({ $0[container.id]?.output }) { return output.lastLines(lines) }
        return ContainerOutputLog.lastLines(lines, at: "\(bundles)/\(container.id)/output.log")
    }

    public func list() async throws -> [Container] {
        let (status, output) = try await runtimeCommand(["list", "--format", "json"])
        guard status == 0, let data = output.data(using: .utf8) else {
            throw ContainerError.launch(function: "-", reason: "\(name) list failed with status \(status)")
        }
        // runc prints `null` when there is none.
        let entries = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [[String: Any]]) ?? []
        return entries.compactMap { $0["id"] as? String }.filter { $0.hasPrefix(prefix) }.map { Container(id: $0, iofs: iofs(of: $0)) }
    }

    public func listOrphans() async throws -> [Container] {
        let parent = (stateRoot as NSString).deletingLastPathComponent
        var orphans: [Container] = []
        for other in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where other != instance && !RuntimeInstance.isAlive(other) {
            let root = "\(parent)/\(other)"
            guard let maker = Self.runtime(thatMadeStateIn: root, preferring: runtime) else { continue }
            let (status, output) = try await runtimeCommand(["list", "--format", "json"], root: root, runtime: maker)
            guard status == 0, let data = output.data(using: .utf8) else { continue }
            let entries = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [[String: Any]]) ?? []
            for id in entries.compactMap({ $0["id"] as? String }) {
                // Removed by the runtime that made it, with the orphan's state root.
                _ = try? await runtimeCommand(["delete", "--force", id], root: root, runtime: maker)
                RootDirectoryCleaner.remove(iofs(of: id))
                RootDirectoryCleaner.remove("\(iofsRoot)/\(id)")  // named after the whole ID before
                RootDirectoryCleaner.remove("\(bundles)/\(id)")
                orphans.append(Container(id: id, iofs: iofs(of: id)))
            }
            rmdir(root)
        }
        return orphans
    }

    /// Runs the runtime (this driver's unless told) with `--root`; returns its status and standard output.
    func runtimeCommand(_ arguments: [String], root: String? = nil, runtime: String? = nil) async throws -> (Int32, String) {
        let runtime = runtime ?? self.runtime, stateRoot = root ?? self.stateRoot
        return try await onOwnThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: runtime)
            process.arguments = ["--root", stateRoot] + arguments
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
    }

}

/// The OCI runtime spec (config.json) of a function container: the parts
/// fnrt sets, as Codable types (encoded without JSONSerialization, whose
/// first use costs milliseconds on the cold-start path).
struct OCIRuntimeSpec: Encodable {
    struct User: Encodable { var uid: Int; var gid: Int; var additionalGids: [Int] }
    struct Capabilities: Encodable {
        var bounding: [String] = [], effective: [String] = [], inheritable: [String] = [], permitted: [String] = [], ambient: [String] = []
    }
    struct Rlimit: Encodable { var type: String; var hard: Int; var soft: Int }
    struct Process: Encodable {
        var terminal = false
        var user: User
        var args: [String]
        var env: [String]
        var cwd: String
        var capabilities = Capabilities()
        var rlimits: [Rlimit]
        var noNewPrivileges = true
    }
    struct Root: Encodable { var path: String; var readonly = true }
    struct Mount: Encodable {
        var destination: String, type: String, source: String, options: [String]
    }
    struct Namespace: Encodable { var type: String }
    struct Memory: Encodable { var limit: Int; var swap: Int }
    struct Pids: Encodable { var limit: Int }
    struct DeviceRule: Encodable { var allow: Bool; var access: String }
    struct CPU: Encodable { var quota: Int; var period: Int }
    struct Resources: Encodable {
        var memory: Memory
        var pids: Pids
        var devices = [DeviceRule(allow: false, access: "rwm")]
        var cpu: CPU?
    }
    struct Linux: Encodable {
        var namespaces = ["pid", "network", "ipc", "uts", "mount"].map(Namespace.init)
        var resources: Resources
        var maskedPaths = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                           "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"]
        var readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
    }

    var ociVersion = "1.0.2"
    var process: Process
    var root: Root
    var hostname: String
    var mounts: [Mount]
    var linux: Linux

    static func make(rootfs: String, args: [String], env: [String], cwd: String, user: ImageUser.Resolved, hostname: String,
                     iofs: String, spec: FunctionSpec) -> OCIRuntimeSpec {
        let memory = spec.memoryMB << 20
        let resources = Resources(memory: Memory(limit: memory, swap: memory), pids: Pids(limit: spec.pidsLimit),
                                  cpu: spec.cpus.map { CPU(quota: Int($0 * 100_000), period: 100_000) })
        let mounts = [
            Mount(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]),
            Mount(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
            Mount(destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=\(spec.tmpMB)m"]),
            Mount(destination: "/tmp/iofs", type: "bind", source: iofs, options: ["rbind", "rw", "nosuid", "nodev", "noexec"]),
        ]
        let process = Process(user: User(uid: user.uid, gid: user.gid, additionalGids: user.groups), args: args, env: env, cwd: cwd.isEmpty ? "/" : cwd,
                              rlimits: [Rlimit(type: "RLIMIT_NOFILE", hard: spec.openFiles, soft: spec.openFiles)])
        return OCIRuntimeSpec(process: process, root: Root(path: rootfs), hostname: hostname, mounts: mounts, linux: Linux(resources: resources))
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
