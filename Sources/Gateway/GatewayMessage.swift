import Foundation
import HTTPTypes
import NIOCore

/// A request as the gateway sees it, independent of the HTTP server in front.
public struct GatewayRequest: Sendable {
    /// `GET`, `POST`, ... as received.
    public var method: HTTPRequest.Method
    /// The path as received, percent-encoded, without the query (`/marketing/hello/`).
    public var path: String
    /// The raw query without `?`, nil when there is none.
    public var query: String?
    public var headers: HTTPFields
    /// The whole body (the gateway enforces the body limit before collecting it).
    public var body: ByteBuffer
    /// The client's address (IPv4 dotted or IPv6 text), for rate limiting by `CLIENT_IP`.
    public var clientAddress: String?
    /// Set by the router: the matched route's parameters (`{name}` -> value, `{rest*}` -> the rest).
    public var pathParameters: [String: String] = [:]
    /// Set by authentication: who the caller is.
    public var principal: Principal?
    /// Set by the gateway: the path under the deployment's prefix (`/hello/`).
    public var routePath: String = ""
    /// The host the client asked for (HTTP/2's `:authority`, or HTTP/1.1's
    /// `Host` when the server keeps it out of `headers`); nil: the `Host` header.
    public var authority: String?

    public init(method: HTTPRequest.Method, path: String, query: String? = nil, headers: HTTPFields = [:],
                body: ByteBuffer = ByteBuffer(), clientAddress: String? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.clientAddress = clientAddress
    }

    /// The host the client asked for: `authority`, else the `Host` header (`request.host`).
    public var host: String? { authority ?? headers[HTTPField.Name("Host")!] }

    /// The request URI as received: path, then `?query` when there is one.
    public var uri: String { query.map { "\(path)?\($0)" } ?? path }
}

/// A response from a backend or a policy.
public struct GatewayResponse: Sendable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var body: ByteBuffer

    public init(status: HTTPResponse.Status, headers: HTTPFields = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A plain-text or JSON error answer, `{"message": ...}` as Fn and OCI's gateway answer.
    public static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> GatewayResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        var escaped = ""
        for scalar in message.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case _ where scalar.value < 0x20: escaped += String(format: "\\u%04x", scalar.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return GatewayResponse(status: status, headers: headers, body: ByteBuffer(string: "{\"message\":\"\(escaped)\"}"))
    }
}

/// Who an authenticated caller is.
public struct Principal: Sendable, Equatable {
    /// The token's `sub`, or the authorizer function's principal.
    public var subject: String?
    /// Scopes for `ANY_OF` authorization (JWT `scope`/`scp`, or the authorizer's `scope`).
    public var scopes: Set<String>
    /// Claims or context values, as strings; reachable as `request.auth[name]`.
    public var context: [String: String]

    public init(subject: String? = nil, scopes: Set<String> = [], context: [String: String] = [:]) {
        self.subject = subject
        self.scopes = scopes
        self.context = context
    }
}

/// What a route forwards matched requests to. Implementations: stock
/// response, HTTP, dynamic routing (in this module) and functions (the
/// `FunctionBackend` module, a plugin).
public protocol GatewayBackend: Sendable {
    func respond(to request: GatewayRequest) async -> GatewayResponse
    /// The same answer, given to `answer` once, on `eventLoop` (at once when
    /// it is ready). The default runs `respond(to:)` in a task; a backend
    /// that can often answer without leaving the loop (a warm function) does
    /// so here.
    func respond(to request: GatewayRequest, on eventLoop: any EventLoop, answer: @escaping @Sendable (GatewayResponse) -> Void)
}

extension GatewayBackend {
    public func respond(to request: GatewayRequest, on eventLoop: any EventLoop, answer: @escaping @Sendable (GatewayResponse) -> Void) {
        eventLoop.makeFutureWithTask { await self.respond(to: request) }.whenSuccess(answer)
    }
}
