import Foundation

/// A running (or starting) function container.
public struct Container: Hashable, Sendable {
    /// The driver's ID for it.
    public var id: String
    /// The host directory mounted at /tmp/iofs, where the function listens.
    public var iofs: String
    /// `<iofs>/lsnr.sock`.
    public var socketPath: String { iofs + "/lsnr.sock" }

    /// The most bytes a function's socket path can have: SwiftNIO's limit,
    /// the same on every platform (Darwin's `sun_path` less its NUL; Linux
    /// has 4 bytes more).
    public static let maxSocketPathBytes = 103

    /// 12 random lower-case hex digits: the name of a container's iofs
    /// directory (48 random bits: `mkdir` refuses the rare repeat).
    static func randomName() -> String {
        String(UUID().uuidString.lowercased().filter { $0 != "-" }.prefix(randomNameLength))
    }
    static let randomNameLength = 12

    /// Checks, when a driver is made, that the sockets of the containers it
    /// will start in `iofsRoot` (each in a directory named `randomName()`)
    /// fit in a Unix socket address. A longer path would fail every call to
    /// every function, so the home is refused at once, by name.
    static func checkSocketPath(iofsRoot: String, home: String) throws {
        let path = Container(id: "", iofs: "\(iofsRoot)/\(String(repeating: "0", count: randomNameLength))").socketPath
        guard path.utf8.count > maxSocketPathBytes else { return }
        throw ContainerError.homeTooLong(home: home, socketPath: path, limit: maxSocketPathBytes)
    }
}

/// What a container is doing.
public enum ContainerState: Equatable, Sendable {
    case running
    /// `outOfMemory`: the kernel killed it at its memory limit (as the engine tells; the OCI driver cannot).
    case exited(code: Int, outOfMemory: Bool = false)
    case missing

    /// Said after what went wrong with a container in this state: why it ended, when the engine knows.
    public func describingEnd(memoryMB: Int) -> String {
        guard case .exited(_, outOfMemory: true) = self else { return "" }
        return "; the kernel killed it for want of memory: its limit is \(memoryMB) MB"
    }
}

/// Why a container could not be started or used.
public enum ContainerError: Error, Sendable, CustomStringConvertible {
    /// The function did not listen within its start-up timeout.
    case startupTimeout(function: String, after: Duration, logs: [String])
    /// The container exited before it listened.
    case exitedAtStartup(function: String, code: Int, logs: [String])
    /// The listener is not a socket, or a relative link beside it to one.
    case badListener(function: String, reason: String)
    /// The driver could not create or start the container.
    case launch(function: String, reason: String)
    /// Under this home, the containers' sockets would not fit in a Unix socket address.
    case homeTooLong(home: String, socketPath: String, limit: Int)

    public var description: String {
        switch self {
        case .startupTimeout(let function, let after, let logs):
            "\(function) did not listen within \(after)" + Self.describing(output: logs)
        case .exitedAtStartup(let function, let code, let logs):
            "\(function) exited with code \(code) before it listened" + Self.describing(output: logs)
        case .badListener(let function, let reason): "\(function): refused listener: \(reason)"
        case .launch(let function, let reason): "\(function): cannot start its container: \(reason)"
        case .homeTooLong(let home, let socketPath, let limit):
            "the fnrt home \(home) is too long: the functions' sockets would be at paths like \(socketPath) "
                + "(\(socketPath.utf8.count) bytes), and a function's socket path may have at most \(limit) bytes; "
                + "set FNRT_HOME to a directory of at most \(limit - (socketPath.utf8.count - home.utf8.count)) bytes"
        }
    }

    /// A container's last lines of output, to end a message: `; its last output:` and one indented line each.
    public static func describing(output lines: [String]) -> String {
        lines.isEmpty ? " (no output)" : "; its last output:\n" + lines.map { "  | \($0)" }.joined(separator: "\n")
    }
}

/// Starts, watches and removes function containers: the I/O boundary between
/// the runtime and a container engine.
public protocol ContainerDriver: Sendable {
    /// A short name for logs and errors (`docker`, `runc`).
    var name: String { get }
    /// Creates and starts a container for `spec`; its iofs directory is made
    /// here. It may not listen yet: see `waitUntilListening`.
    func start(_ spec: FunctionSpec) async throws -> Container
    /// Returns when the function listens on `container.socketPath`; throws a
    /// `ContainerError` with the container's last output when it exits first
    /// or takes longer than `timeout`.
    func waitUntilListening(_ container: Container, spec: FunctionSpec, timeout: Duration) async throws
    /// Stops the container: SIGTERM, then SIGKILL after `grace`.
    func stop(_ container: Container, grace: Duration) async throws
    /// Kills the container at once (a call timed out or broke the contract).
    func kill(_ container: Container) async throws
    /// Removes the container and its iofs directory; a missing one is fine.
    func remove(_ container: Container) async throws
    func state(_ container: Container) async throws -> ContainerState
    /// The container's last lines of output.
    func logs(_ container: Container, lines: Int) async -> [String]
    /// This runtime instance's containers (by label), as left by any process.
    func list() async throws -> [Container]
    /// Containers that other instances of this runtime (same `$FNRT_HOME`)
    /// left behind: a process that was killed cannot remove its own. Those
    /// of an instance whose process still runs (`RuntimeInstance.isAlive`)
    /// are not orphans.
    func listOrphans() async throws -> [Container]
}

extension ContainerDriver {
    /// What a container that went wrong leaves to say, read before its
    /// removal takes it: its last 20 lines of output, and how it ended
    /// (`ContainerState.describingEnd`: empty unless the engine knows).
    func lastWords(of container: Container, memoryMB: Int) async -> (output: [String], end: String) {
        let output = await logs(container, lines: 20)
        return (output, (try? await state(container))?.describingEnd(memoryMB: memoryMB) ?? "")
    }

    /// Starts a container for `spec`, waits until it listens and connects to
    /// it; a container that got that far and no further is removed.
    public func startListening(_ spec: FunctionSpec) async throws -> (Container, FDKConnection) {
        let container = try await start(spec)
        do {
            try await waitUntilListening(container, spec: spec, timeout: spec.startupTimeout)
            return (container, try await FDKConnection.connect(socketPath: container.socketPath))
        } catch {
            try? await remove(container)
            throw error
        }
    }
}
