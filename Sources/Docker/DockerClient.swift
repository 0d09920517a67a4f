import CurlHTTP
import Foundation
import Synchronization

/// A Docker Engine API error, with the message Docker sent.
public enum DockerError: Error, Sendable, CustomStringConvertible {
    /// The engine answered with an error status and `{"message": ...}`.
    case api(status: Int, method: String, path: String, message: String)
    /// The engine could not be reached.
    case unreachable(endpoint: String, reason: String)
    /// The engine sent something unexpected.
    case invalidResponse(path: String, reason: String)

    public var description: String {
        switch self {
        case .api(let status, let method, let path, let message): "docker: \(method) \(path): \(status): \(message)"
        case .unreachable(let endpoint, let reason): "docker: cannot reach the engine at \(endpoint): \(reason)"
        case .invalidResponse(let path, let reason): "docker: \(path): \(reason)"
        }
    }

    /// True for 404 answers (no such container or image).
    public var isNotFound: Bool { if case .api(404, _, _, _) = self { true } else { false } }
}

/// Where the Docker engine listens: `DOCKER_HOST` as `unix://PATH` or
/// `tcp://127.0.0.1:PORT`, else `/var/run/docker.sock`.
public struct DockerEndpoint: Sendable, CustomStringConvertible {
    public var socketPath: String?
    public var baseURL: String

    public init(socketPath: String) {
        self.socketPath = socketPath
        self.baseURL = "http://docker"
    }

    init(socketPath: String?, baseURL: String) {
        self.socketPath = socketPath
        self.baseURL = baseURL
    }

    public init(parsing host: String) throws {
        if host.hasPrefix("unix://") {
            self.init(socketPath: String(host.dropFirst("unix://".count)))
        } else if host.hasPrefix("tcp://") {
            self.init(socketPath: nil, baseURL: "http://" + host.dropFirst("tcp://".count))
        } else {
            throw DockerError.unreachable(endpoint: host, reason: "DOCKER_HOST must be unix://PATH or tcp://HOST:PORT")
        }
    }

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DockerEndpoint {
        if let host = environment["DOCKER_HOST"], !host.isEmpty { return try DockerEndpoint(parsing: host) }
        return DockerEndpoint(socketPath: "/var/run/docker.sock")
    }

    public var description: String { socketPath.map { "unix://\($0)" } ?? baseURL }
}

/// A client of the Docker Engine API: versioned paths (the version agreed
/// with the engine at first use), JSON in and out, Docker's error messages
/// carried in `DockerError`.
public final class DockerClient: Sendable {
    public let endpoint: DockerEndpoint
    let transport: CurlTransport
    let streamingTransport: CurlTransport
    /// The newest API version this client speaks.
    public static let maximumAPIVersion = "1.43"
    private let negotiated = Mutex<String?>(nil)

    public init(endpoint: DockerEndpoint) {
        self.endpoint = endpoint
        transport = CurlTransport(connectTimeout: 10, stallTimeout: 120, unixSocketPath: endpoint.socketPath)
        streamingTransport = CurlTransport(connectTimeout: 10, stallTimeout: 0, unixSocketPath: endpoint.socketPath)
    }

    public convenience init() throws { self.init(endpoint: try DockerEndpoint.fromEnvironment()) }

    /// The API version in use: the engine's, capped at the client's maximum.
    public func apiVersion() async throws -> String {
        if let version = negotiated.withLock({ $0 }) { return version }
        struct Version: Decodable { var ApiVersion: String; var MinAPIVersion: String? }
        let (status, body) = try await send("GET", "/version", versioned: false)
        guard status == 200, let version = try? JSONDecoder().decode(Version.self, from: body) else {
            throw DockerError.invalidResponse(path: "/version", reason: "HTTP \(status): \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        let chosen = Self.compare(version.ApiVersion, Self.maximumAPIVersion) < 0 ? version.ApiVersion : Self.maximumAPIVersion
        negotiated.withLock { $0 = chosen }
        return chosen
    }

    static func compare(_ a: String, _ b: String) -> Int {
        let x = a.split(separator: ".").map { Int($0) ?? 0 }, y = b.split(separator: ".").map { Int($0) ?? 0 }
        for i in 0..<max(x.count, y.count) {
            let l = i < x.count ? x[i] : 0, r = i < y.count ? y[i] : 0
            if l != r { return l < r ? -1 : 1 }
        }
        return 0
    }

    /// Sends a request; returns the status and the body (capped at 64 MiB).
    public func send(_ method: String, _ path: String, query: [String: String] = [:], json: (any Encodable)? = nil,
                     body: HTTPBody? = nil, contentType: String? = nil, versioned: Bool = true,
                     streaming: Bool = false) async throws -> (Int, Data) {
        let sink = BufferSink(limit: 64 << 20)
        let head = try await send(method, path, query: query, json: json, body: body, contentType: contentType, versioned: versioned,
                                  streaming: streaming, into: sink)
        return (head.status, sink.data)
    }

    /// Sends a request whose response body goes to `sink` as it arrives.
    func send(_ method: String, _ path: String, query: [String: String] = [:], json: (any Encodable)? = nil,
              body: HTTPBody? = nil, contentType: String? = nil, versioned: Bool = true,
              streaming: Bool, into sink: any ResponseSink) async throws -> HTTPResponseHead {
        let prefix = versioned ? "/v\(try await apiVersion())" : ""
        var components = URLComponents(string: endpoint.baseURL + prefix + path)!
        if !query.isEmpty { components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) } }
        guard let url = components.url else { throw DockerError.invalidResponse(path: path, reason: "bad URL") }
        var request = HTTPRequest(method: method, url: url)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            request.body = .data(try encoder.encode(json))
            request.setHeader("Content-Type", "application/json")
        } else if let body {
            request.body = body
            if let contentType { request.setHeader("Content-Type", contentType) }
        }
        do { return try await (streaming ? streamingTransport : transport).perform(request, sink: sink) } catch let error as TransportError {
            throw DockerError.unreachable(endpoint: endpoint.description, reason: error.message)
        }
    }

    /// Sends a request that must answer one of `expected`; maps errors.
    @discardableResult
    public func call(_ method: String, _ path: String, query: [String: String] = [:], json: (any Encodable)? = nil,
                     expect expected: Set<Int> = [200, 201, 204], streaming: Bool = false) async throws -> Data {
        let (status, body) = try await send(method, path, query: query, json: json, streaming: streaming)
        guard expected.contains(status) else { throw Self.error(status: status, method: method, path: path, body: body) }
        return body
    }

    static func error(status: Int, method: String, path: String, body: Data) -> DockerError {
        struct Message: Decodable { var message: String }
        let message = (try? JSONDecoder().decode(Message.self, from: body))?.message
            ?? String(decoding: body.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return .api(status: status, method: method, path: path, message: message)
    }
}
