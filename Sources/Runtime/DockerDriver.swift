import Docker
import Foundation
import ImageStore
import OCI
import Synchronization

/// Runs function containers through the Docker Engine API, hardened as Fn
/// does for untrusted code: no network, read-only root with a tmpfs /tmp, the
/// iofs directory bind-mounted at /tmp/iofs, every capability dropped,
/// no-new-privileges, a non-root user, pids, open-files, memory (and swap)
/// and CPU limits, an init process, and labels naming this runtime.
public final class DockerDriver: ContainerDriver {
    public let name = "docker"
    let docker: DockerClient
    let store: ContentStore
    let loader: DockerImageLoader
    /// Where iofs directories are made: `$FNRT_HOME/iofs`.
    let iofsRoot: String
    /// This runtime instance's label value.
    public let instance: String

    public static let instanceLabel = "fnrt.instance"
    /// Names the fnrt home a container belongs to, so runtimes with other homes on the same engine are left alone.
    public static let homeLabel = "fnrt.home"
    let home: String

    /// `onImageLoad` sees Docker's progress while an image is loaded into it
    /// (once per image digest; a large image takes a while).
    public init(docker: DockerClient, store: ContentStore, home: FnrtHome, instance: String,
                onImageLoad: (@Sendable (_ image: String, ImageLoadProgress) -> Void)? = nil) throws {
        self.docker = docker
        self.store = store
        self.loader = DockerImageLoader(docker: docker, store: store, onProgress: onImageLoad)
        self.iofsRoot = home.path + "/iofs"
        self.instance = instance
        self.home = home.path
        try Container.checkSocketPath(iofsRoot: iofsRoot, home: home.path)
        try FileManager.default.createDirectory(atPath: iofsRoot, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
    }

    public func start(_ spec: FunctionSpec) async throws -> Container {
        let function = "\(spec.app)/\(spec.name)"
        let (manifest, config) = try store.image(spec.image)
        let imageID = try await loader.ensureLoaded(manifest: manifest, reference: spec.image)

        let id = UUID().uuidString.lowercased()
        // A short name, so that long homes still fit a socket path: the
        // instance and the container are in its labels, with this path.
        let iofs = "\(iofsRoot)/\(Container.randomName())"
        guard mkdir(iofs, 0o777) == 0, chmod(iofs, 0o777) == 0 else { throw StoreError.io(path: iofs, operation: "create", errno: errno) }
        var host = ContainerConfig.Host()
        host.Binds = ["\(iofs):/tmp/iofs"]
        host.Tmpfs = ["/tmp": "rw,noexec,nosuid,size=\(spec.tmpMB)m"]
        host.PidsLimit = spec.pidsLimit
        host.Ulimits = [.init(Name: "nofile", Soft: spec.openFiles, Hard: spec.openFiles)]
        host.Memory = Int64(spec.memoryMB) << 20
        host.MemorySwap = Int64(spec.memoryMB) << 20
        if let cpus = spec.cpus {
            host.CpuPeriod = 100_000
            host.CpuQuota = Int(cpus * 100_000)
        }
        let imageUser = config.config?.User ?? ""
        let user = spec.user ?? (["", "root", "0", "0:0"].contains(imageUser) ? "1000:1000" : imageUser)
        let container = ContainerConfig(
            image: imageID, env: spec.environment, user: user,
            labels: [Self.instanceLabel: instance, Self.homeLabel: home, "fnrt.app": spec.app, "fnrt.function": spec.name, "fnrt.iofs": iofs, "fnrt.image": spec.image],
            hostConfig: host)
        let name = "fnrt-\(spec.app)-\(spec.name)-\(id.prefix(8))".filter { $0.isLetter || $0.isNumber || "-_.".contains($0) }
        do {
            let dockerID: String
            do {
                dockerID = try await docker.createContainer(name: name, container)
            } catch let error as DockerError where error.isNotFound {
                // The engine lost the image since it was loaded here (`docker image rm`,
                // `fnrt image prune` under another home): loaded again, once.
                loader.forget(manifest)
                _ = try await loader.ensureLoaded(manifest: manifest, reference: spec.image)
                dockerID = try await docker.createContainer(name: name, container)
            }
            let started = Container(id: dockerID, iofs: iofs)
            do { try await docker.startContainer(dockerID) } catch {
                try? await remove(started)
                throw ContainerError.launch(function: function, reason: "\(error)")
            }
            removeUnremoved()  // the engine answers again
            return started
        } catch let error as ContainerError {
            throw error
        } catch {
            RootDirectoryCleaner.remove(iofs)
            // No answer (the engine went away mid-request, as a restart does): it may have made
            // the container all the same. Removed by name once the engine answers again.
            if case DockerError.api = error {} else {
                let maybeMade = Container(id: name, iofs: iofs)
                unremoved.withLock { if $0[maybeMade] == nil { $0[maybeMade] = 0 } }  // no removal has failed yet
            }
            throw ContainerError.launch(function: function, reason: "\(error)")
        }
    }

    public func waitUntilListening(_ container: Container, spec: FunctionSpec, timeout: Duration) async throws {
        try await waitForListener(container, spec: spec, timeout: timeout) { [docker] in try? await docker.waitContainer(container.id) }
    }

    public func stop(_ container: Container, grace: Duration) async throws {
        do { try await docker.stopContainer(container.id, timeout: Int(grace.components.seconds)) } catch let error as DockerError where error.isNotFound {}
    }

    public func kill(_ container: Container) async throws {
        do { try await docker.killContainer(container.id) } catch let error as DockerError where error.isNotFound {}
    }

    public func remove(_ container: Container) async throws {
        do {
            try await docker.removeContainer(container.id)
        } catch {
            // The engine is away (restarting) or busy: tried again once it starts a
            // container, and on its own after 1, 2, 4... s (30 s apart at most, eight times).
            let failures = unremoved.withLock { pending in
                pending[container, default: 0] += 1
                return pending[container]!
            }
            if failures <= 8 {
                let delay = Duration.seconds(min(30, 1 << (failures - 1)))
                Task {
                    try? await Task.sleep(for: delay)
                    guard unremoved.withLock({ $0[container] != nil }) else { return }
                    try? await remove(container)
                }
            }
            throw error
        }
        unremoved.withLock { _ = $0.removeValue(forKey: container) }
        RootDirectoryCleaner.remove(container.iofs)
    }

    /// Containers whose removal failed, and how many times. A dockerd
    /// restart kills every container, and the scheduler's removals fail
    /// while it is down; the engine can also refuse a removal for a while
    /// (`device or resource busy`: the container's mount still held by
    /// another mount namespace). Without a second try the dead containers
    /// (and their iofs directories) would stay until fnrt stops; with one
    /// try at the next start, until a container starts (CI saw one left).
    private let unremoved = Mutex<[Container: Int]>([:])

    /// Tries again to remove what could not be removed (in the background).
    private func removeUnremoved() {
        let pending = unremoved.withLock { Array($0.keys) }
        guard !pending.isEmpty else { return }
        Task { for container in pending { try? await remove(container) } }
    }

    public func state(_ container: Container) async throws -> ContainerState {
        do {
            let info = try await docker.inspectContainer(container.id)
            let state = info["State"] as? [String: Any] ?? [:]
            if state["Running"] as? Bool == true { return .running }
            return .exited(code: state["ExitCode"] as? Int ?? -1, outOfMemory: state["OOMKilled"] as? Bool ?? false)
        } catch let error as DockerError where error.isNotFound {
            return .missing
        }
    }

    public func logs(_ container: Container, lines: Int) async -> [String] {
        (try? await docker.logs(container.id, tail: lines)) ?? []
    }

    public func listOrphans() async throws -> [Container] {
        try await docker.listContainers(labels: ["\(Self.homeLabel)=\(home)"])
            .filter { container in
                let owner = container.Labels?[Self.instanceLabel] ?? ""
                return owner != instance && !RuntimeInstance.isAlive(owner)
            }
            .map { Container(id: $0.Id, iofs: $0.Labels?["fnrt.iofs"] ?? "") }
    }

    public func list() async throws -> [Container] {
        try await docker.listContainers(labels: ["\(Self.instanceLabel)=\(instance)"]).map {
            Container(id: $0.Id, iofs: $0.Labels?["fnrt.iofs"] ?? "")
        }
    }
}

/// Removes iofs directories (files the function left there included).
enum RootDirectoryCleaner {
    static func remove(_ path: String) {
        guard !path.isEmpty else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}
