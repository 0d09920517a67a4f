import Foundation
import Gateway
import HTTPTypes
import NIOCore
import Synchronization
import Testing

// MARK: Requests and deployments

/// A deployment resource around `specification` (JSON text).
func deploymentJSON(prefix: String = "/api", _ specification: String, displayName: String = "test") -> [UInt8] {
    Array("{\"displayName\": \"\(displayName)\", \"pathPrefix\": \"\(prefix)\", \"specification\": \(specification)}".utf8)
}

/// A gateway with the test plugins, serving `specification` under `prefix`.
func makeGateway(_ specification: String, prefix: String = "/api", plugins: [any BackendPlugin] = [EchoPlugin()],
                 reserved: [String] = ["/v2", "/invoke", "/t", "/metrics", "/health"]) async throws -> Gateway {
    let gateway = Gateway(reservedPrefixes: reserved, plugins: plugins)
    try await gateway.deploy(deploymentJSON(prefix: prefix, specification), id: "test")
    return gateway
}

/// A request for `target` (`/api/x?y=1`).
func request(_ method: HTTPRequest.Method = .get, _ target: String, headers: HTTPFields = [:], body: String = "",
             client: String? = "127.0.0.1") -> GatewayRequest {
    let path: String
    var query: String?
    if let mark = target.firstIndex(of: "?") {
        path = String(target[..<mark])
        query = String(target[target.index(after: mark)...])
    } else {
        path = target
    }
    return GatewayRequest(method: method, path: path, query: query, headers: headers, body: ByteBuffer(string: body), clientAddress: client)
}

extension Gateway {
    /// Serves `request`, failing the test when no deployment matches.
    func send(_ request: GatewayRequest, sourceLocation: SourceLocation = #_sourceLocation) async throws -> GatewayResponse {
        try #require(await handle(request), "no deployment served \(request.path)", sourceLocation: sourceLocation)
    }
}

extension GatewayResponse {
    var text: String { String(buffer: body) }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// What `EchoPlugin`'s backend saw.
    var echo: Echo? { try? JSONDecoder().decode(Echo.self, from: Data(text.utf8)) }

    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}

/// What the echo backend received.
struct Echo: Decodable, Equatable {
    var name: String
    var method: String
    var routePath: String
    var params: [String: String]
    var query: String?
    var headers: [String: String]
    var subject: String?
    var scopes: [String]
    var body: String
}

// MARK: Test backends

/// `TEST_ECHO`: answers with what it received, as JSON (and `name` from its spec).
/// Stands in for a real backend where a test looks at what reaches the backend.
struct EchoPlugin: BackendPlugin {
    let type = "TEST_ECHO"

    func makeBackend(_ backend: JSONValue, path: String) async throws -> any GatewayBackend {
        EchoBackend(name: backend["name"]?.stringValue ?? "")
    }
}

struct EchoBackend: GatewayBackend {
    let name: String

    func respond(to request: GatewayRequest) async -> GatewayResponse {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = headers[field.name.canonicalName].map { "\($0), \(field.value)" } ?? field.value }
        let object: [String: Any] = [
            "name": name, "method": request.method.rawValue, "routePath": request.routePath, "params": request.pathParameters,
            "query": request.query as Any, "headers": headers, "subject": request.principal?.subject as Any,
            "scopes": (request.principal?.scopes ?? []).sorted(), "body": String(buffer: request.body),
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return GatewayResponse(status: .ok, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: data))
    }
}

/// Counts the calls that reach a backend.
final class CallCounter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

// MARK: A loopback HTTP server

/// Python's http.server on 127.0.0.1 and an ephemeral port, answering every
/// request with JSON of what it received; `/slow...` waits 2 s first. It
/// exits when the test process does (it watches its standard input).
final class PythonHTTPServer: Sendable {
    static let script = #"""
    import http.server, json, sys, threading, time, os
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.startswith("/slow"):
                time.sleep(2)
            headers = {}
            for k, v in self.headers.items():
                headers[k.lower()] = headers[k.lower()] + ", " + v if k.lower() in headers else v
            out = json.dumps({"method": self.command, "path": self.path, "headers": headers, "body": body.decode()}).encode()
            self.send_response(201 if self.path.startswith("/created") else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.send_header("X-Backend", "python")
            self.send_header("Keep-Alive", "timeout=5")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(out)
        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = answer
        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    os._exit(0)
    """#

    let port: Int
    private let process: Process
    private let input: Pipe

    private init(port: Int, process: Process, input: Pipe) {
        self.port = port
        self.process = process
        self.input = input
    }

    /// One server for the whole test run.
    static let shared: Task<PythonHTTPServer, any Error> = Task { try start() }

    static func start() throws -> PythonHTTPServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", "-c", script]
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            throw TestServerError(message: "python3's http.server did not start")
        }
        return PythonHTTPServer(port: port, process: process, input: input)
    }
}

struct TestServerError: Error {
    var message: String
}

/// A loopback port with nothing listening (bound, then closed).
func closedPort() throws -> Int {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestServerError(message: "cannot bind a loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

// MARK: A stand-in for the function plugin

/// Stands in for the runtime's `ORACLE_FUNCTIONS_BACKEND` plugin, which is
/// tested end to end elsewhere (the FunctionBackend and integration tests).
/// It knows two functions: `hello`, and `authz`, an authorizer that accepts
/// the token `good` (cacheable until its `expiresAt`) and `fresh` (not
/// cacheable), refuses `bad`, and fails on `crash`; with `USER_DEFINED` input
/// it accepts `data.key == "k1"`.
struct FakeFunctionPlugin: BackendPlugin {
    let type = "ORACLE_FUNCTIONS_BACKEND"
    let authorizerCalls: CallCounter

    init(authorizerCalls: CallCounter = CallCounter()) {
        self.authorizerCalls = authorizerCalls
    }

    func makeBackend(_ backend: JSONValue, path: String) async throws -> any GatewayBackend {
        switch backend["functionId"]?.stringValue {
        case "hello"?: return EchoBackend(name: "hello")
        case "authz"?: return AuthorizerFunction(calls: authorizerCalls)
        case nil: throw SpecValidationError(problems: [SpecProblem(path: "\(path).functionId", message: "required")])
        default: throw SpecValidationError(problems: [SpecProblem(path: "\(path).functionId", message: "no such function")])
        }
    }
}

struct AuthorizerFunction: GatewayBackend {
    let calls: CallCounter

    func respond(to request: GatewayRequest) async -> GatewayResponse {
        calls.increment()
        let input = (try? JSONSerialization.jsonObject(with: Data(String(buffer: request.body).utf8))) as? [String: Any] ?? [:]
        let token = input["type"] as? String == "USER_DEFINED"
            ? ((input["data"] as? [String: Any])?["key"] as? String == "k1" ? "fresh" : "bad")
            : input["token"] as? String ?? ""
        let answer: String
        switch token {
        case "good":
            let expiry = Date(timeIntervalSinceNow: 3600).formatted(.iso8601)
            answer = #"{"active": true, "principal": "bob", "scope": ["read", "write"], "context": {"tenant": "acme", "level": 3}, "expiresAt": "\#(expiry)"}"#
        case "fresh":
            answer = #"{"active": true, "principalId": "carol", "scope": "read", "context": {"tenant": "globex"}}"#
        case "crash":
            return .error(.badGateway, "function failed")
        default:
            answer = #"{"active": false, "wwwAuthenticate": "Bearer realm=\"authz\", error=\"invalid_token\""}"#
        }
        return GatewayResponse(status: .ok, headers: [.contentType: "application/json"], body: ByteBuffer(string: answer))
    }
}
