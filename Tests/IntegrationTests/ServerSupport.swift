import CurlHTTP
import Foundation
import ImageStore
import Logging
import Registry
import Server
import Synchronization
import TestSupport

/// `fnrt serve` in this process on an ephemeral loopback port, with its own
/// home (the sample functions packed into its store), for end-to-end tests
/// through a real HTTP client (libcurl).
final class RunningServer: Sendable {
    let home: FnrtHome
    let port: Int
    /// A client timeout of a few seconds closes a kept-alive connection
    /// between two of a test's requests, as curl may reuse it (a reset, on a
    /// loaded machine): every request then asks for a connection of its own.
    let connectionPerRequest: Bool
    private let stopper: AsyncStream<Void>.Continuation
    private let task: Task<Void, any Error>
    let transport = CurlTransport(connectTimeout: 5, stallTimeout: 60)

    struct Answer {
        var status: Int
        var head: HTTPResponseHead
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        func header(_ name: String) -> String? { head.header(name) }
    }

    /// Starts a server on `home` (new when nil), after `configure` adjusts its configuration.
    static func start(home: FnrtHome? = nil, _ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> RunningServer {
        let home = try home ?? RunningServer.makeHome()
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.tracePath = "\(home.path)/trace.jsonl"
        configuration.shutdownGrace = .seconds(5)
        configure(&configuration)
        var logger = Logger(label: "fnrt-test-server")
        logger.logLevel = .warning
        let server = try FnrtServer(configuration: configuration, home: home, logger: logger)
        let (stops, stopper) = AsyncStream<Void>.makeStream()
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let registry = RegistryClient(credentials: CredentialStore(explicit: nil, byRegistry: [:]))
        let task = Task {
            defer { portSink.finish() }
            try await server.run(registry: registry, until: { for await _ in stops { return } }, onRunning: { port in portSink.yield(port) })
        }
        var port: Int?
        for await bound in ports {
            port = bound
            break
        }
        guard let port else {
            _ = try await task.value
            throw TestFailure("the server stopped before it listened")
        }
        return RunningServer(home: home, port: port, connectionPerRequest: configuration.clientTimeout < .seconds(10), stopper: stopper, task: task)
    }

    private init(home: FnrtHome, port: Int, connectionPerRequest: Bool, stopper: AsyncStream<Void>.Continuation, task: Task<Void, any Error>) {
        self.home = home
        self.port = port
        self.connectionPerRequest = connectionPerRequest
        self.stopper = stopper
        self.task = task
    }

    /// A new home whose store holds the sample functions as `fns/NAME:test`
    /// (hard links to one store packed once per test run).
    ///
    /// Other tests add images to that store while this runs, so it is not
    /// copied whole (`cp -al` fails when a temporary file in `ingest/`
    /// vanishes under it): `index.json` is linked first, then every blob,
    /// so each manifest the index names is already in `blobs/`.
    static func makeHome() throws -> FnrtHome {
        let source = FunctionImages.store.root
        let home = FnrtHome(path: Scratch.directory("fnrt-serve"))
        let target = try ContentStore(home: home).root
        for file in ["oci-layout", "index.json"] {
            unlink("\(target)/\(file)")
            try link("\(source)/\(file)", "\(target)/\(file)")
        }
        for blob in try FileManager.default.contentsOfDirectory(atPath: "\(source)/blobs/sha256") {
            try link("\(source)/blobs/sha256/\(blob)", "\(target)/blobs/sha256/\(blob)")
        }
        return home
    }

    private static func link(_ existing: String, _ new: String) throws {
        // EEXIST: a directory listing may name a blob twice while another is renamed in.
        guard Glibc.link(existing, new) == 0 || errno == EEXIST else { throw TestFailure("link \(existing) \(new): \(String(cString: strerror(errno)))") }
    }

    /// Graceful shutdown: calls in flight finish, containers are removed.
    func stop() async throws {
        stopper.yield()
        try await task.value
    }

    func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil) async throws -> Answer {
        var request = HTTPRequest(method: method, url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        for (name, value) in headers { request.headers.append((name, value)) }
        if connectionPerRequest { request.headers.append(("Connection", "close")) }
        if let body { request.body = .data(Data(body.utf8)) }
        let sink = BufferSink(limit: 64 << 20)
        let head = try await transport.perform(request, sink: sink)
        return Answer(status: head.status, head: head, body: String(decoding: sink.data, as: UTF8.self))
    }

    /// Sends JSON to the management API and returns the answer's object; fails unless 2xx.
    @discardableResult
    func api(_ method: String, _ path: String, _ object: [String: Any]) async throws -> [String: Any] {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let answer = try await request(method, path, headers: [("Content-Type", "application/json")], body: body)
        guard (200..<300).contains(answer.status) else { throw TestFailure("\(method) \(path): \(answer.status) \(answer.body)") }
        return answer.json
    }

    /// Registers app `app` with function `function` running `image`; returns (app id, function id).
    @discardableResult
    func register(app: String, function: String, image: String, extra: [String: Any] = [:]) async throws -> (String, String) {
        let appID = try await api("POST", "/v2/apps", ["name": app])["id"] as! String
        var fields: [String: Any] = ["name": function, "app_id": appID, "image": image]
        fields.merge(extra) { $1 }
        let functionID = try await api("POST", "/v2/fns", fields)["id"] as! String
        return (appID, functionID)
    }

    /// Deploys a spec under `prefix` with `routes`, through the management API.
    func deploy(_ id: String, prefix: String, routes: [[String: Any]], policies: [String: Any]? = nil) async throws -> Answer {
        var specification: [String: Any] = ["routes": routes]
        if let policies { specification["requestPolicies"] = policies }
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["displayName": id, "pathPrefix": prefix, "specification": specification]), as: UTF8.self)
        return try await request("PUT", "/v2/deployments/\(id)", headers: [("Content-Type", "application/json")], body: body)
    }
}

/// A route to a function, as a spec writes it.
func functionRoute(_ path: String, _ methods: [String] = ["GET"], function: String, extra: [String: Any] = [:]) -> [String: Any] {
    var route: [String: Any] = ["path": path, "methods": methods, "backend": ["type": "ORACLE_FUNCTIONS_BACKEND", "functionId": function]]
    route.merge(extra) { $1 }
    return route
}

/// Docker containers this home's servers started (label `fnrt.home`).
func containers(of home: FnrtHome) async throws -> [String] {
    try await mustRun(["docker", "ps", "-aq", "--filter", "label=fnrt.home=\(home.path)"]).split(separator: "\n").map(String.init)
}

/// `body` on a thread of its own (a blocking exchange with the in-process server).
func runOffPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// Sends `text` on a new TCP connection to the loopback `port` (then shuts
/// down the sending side when `halfClose`) and returns all that comes back
/// until the server closes it (at most 30 s).
func exchange(port: Int, sending text: String, halfClose: Bool = false) throws -> String {
    try exchange(port: port, pieces: [text], halfClose: halfClose)
}

/// Sends `pieces` on one connection, 50 ms apart, then reads until the server closes it.
func exchange(port: Int, pieces: [String], halfClose: Bool = false) throws -> String {
    let connection = try RawConnection(port: port)
    for (index, piece) in pieces.enumerated() {
        if index > 0 { usleep(50_000) }
        try connection.send(piece)
    }
    if halfClose { connection.closeSending() }
    return try connection.receiveUntilClosed()
}

/// What the server at `port` sent on a new connection after `text`, until
/// it closed it, and how long after `text` it closed.
func closedConnection(port: Int, after text: String) throws -> (String, Duration) {
    let connection = try RawConnection(port: port)
    let sent = ContinuousClock.now
    if !text.isEmpty { try connection.send(text) }
    let received = try connection.receiveUntilClosed()
    return (received, ContinuousClock.now - sent)
}

/// A plain TCP connection to the loopback `port`, for bytes no HTTP client sends.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    /// The descriptor is stored only once connected: a class initializer
    /// that throws after storing it still runs `deinit`, whose second
    /// `close` could close another thread's newly opened descriptor.
    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw TestFailure("connect: \(code)")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw TestFailure("send: \(errno)") }
            sent += count
        }
    }

    func closeSending() { shutdown(fd, Int32(SHUT_WR)) }

    /// What comes until the text received ends with `suffix` (one answer on a kept-alive connection).
    func receive(through suffix: String) throws -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !String(decoding: received, as: UTF8.self).hasSuffix(suffix) {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { throw TestFailure("recv: \(count == 0 ? "closed" : "\(errno)") after \(String(decoding: received, as: UTF8.self))") }
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// All that comes until the server closes the connection (30 s at most between reads).
    func receiveUntilClosed() throws -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { break }
            guard count > 0 else { throw TestFailure("recv: \(errno) after \(String(decoding: received, as: UTF8.self))") }
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}

/// True while a TCP socket listens on the loopback `port` (from /proc/net/tcp, without connecting).
func isListening(port: Int) -> Bool {
    let local = "0100007F:" + String(format: "%04X", port)
    return readWhole("/proc/net/tcp").split(separator: "\n").dropFirst().contains { line in
        let columns = line.split(separator: " ")
        return columns.count > 3 && columns[1] == local && columns[3] == "0A"  // 0A: LISTEN
    }
}

/// A file read to its end. `String(contentsOfFile:)` reads a /proc file's
/// first page only (they report no size): /proc/net/tcp past about 26
/// sockets lost the listener, and `isListening` said false while it listened.
func readWhole(_ path: String) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = read(fd, &chunk, chunk.count)
        guard count > 0 else { break }
        bytes += chunk[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
