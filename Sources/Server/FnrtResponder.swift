import Foundation
import FunctionBackend
import Gateway
import HTTPTypes
import Hummingbird
import Logging
import Management
import NIOCore
import Prometheus

/// The one responder of `fnrt serve`: Fn's management API under `/v2`,
/// `/invoke/{fnID}`, HTTP triggers under `/t/{app}/...`, `/metrics`,
/// `/health`, and everything else through the gateway's deployments.
struct FnrtResponder: HTTPResponder {
    typealias Context = FnrtRequestContext

    /// Paths the server owns; a deployment may not shadow them.
    static let reservedPrefixes = ServerPath.allCases.map { "/" + $0.rawValue }

    let gateway: Gateway
    let management: ManagementAPI
    let deployments: DeploymentDirectory
    let store: MetadataStore
    let resolver: any FunctionResolver
    let invoker: any FunctionInvoking
    let metrics: PrometheusCollectorRegistry
    /// Required as `Authorization: Bearer <token>` on `/v2`, `/invoke` and `/metrics` when set.
    let apiToken: String?
    /// The largest body the server reads (deployments may set less).
    let maxBodyBytes: Int

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        var request = request
        let response = await route(&request, context: context)
        Self.logAccess(context.logger, method: request.method, path: request.uri.path, status: response.status,
                       client: context.remoteAddress?.ipAddress, since: started)
        return response
    }

    /// The access log: one line per request, with a request id (the
    /// logger's, else a new one).
    static func logAccess(_ logger: Logger, method: HTTPRequest.Method, path: String, status: HTTPResponse.Status,
                          client: String?, since started: ContinuousClock.Instant) {
        guard logger.logLevel <= .info else { return }
        let micros = String(AccessLine.microseconds(since: started))
        let metadata: Logger.Metadata = logger[metadataKey: "hb.request.id"] == nil
            ? ["client": .string(client ?? "-"), "us": .string(micros), "hb.request.id": .stringConvertible(RequestID())]
            : ["client": .string(client ?? "-"), "us": .string(micros)]
        logger.info(Logger.Message(stringLiteral: method.rawValue + " " + path + " " + String(status.code)), metadata: metadata)
    }

    /// True for the paths the server itself answers (`reservedPrefixes`);
    /// the rest are the deployments'. `path` may carry a query.
    static func isServerPath(_ path: String) -> Bool { ServerPath(path) != nil }

    private func route(_ request: inout Request, context: Context) async -> Response {
        let path = request.uri.path
        switch ServerPath(path) {
        case .api:
            guard authorized(request) else { return Self.unauthorized }
            guard sameOrigin(request) else { return Self.crossOrigin }
            guard let body = await collect(&request) else { return Self.tooLarge }
            if path == "/v2/deployments" || path.hasPrefix("/v2/deployments/") {
                return await deploymentsAPI(request, path: path, body: body)
            }
            if path == "/v2/openapi.json" {
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: ManagementOpenAPI.json)))
            }
            var query: [String: String] = [:]
            for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
            let answer = management.handle(method: request.method.rawValue, path: path, query: query, body: Array(buffer: body))
            var headers = HTTPFields()
            for (name, value) in answer.headers {
                if let name = HTTPField.Name(name) { headers[name] = value }
            }
            return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
        case .invoke:
            guard authorized(request) else { return Self.unauthorized }
            guard sameOrigin(request) else { return Self.crossOrigin }
            return await invoke(&request, context: context)
        case .trigger:
            return await trigger(&request, context: context)
        case .metrics:
            // Function names and traffic: behind the API token too, when there is one.
            guard authorized(request) else { return Self.unauthorized }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        case .health:
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}")))
        case nil:
            // Unknown prefixes are answered before any of the body is read.
            guard let deployment = gateway.match(path: path) else {
                return Self.response(.error(.notFound, "no route for \(path)"))
            }
            guard let body = await collect(&request, limit: min(deployment.maxBodyBytes, maxBodyBytes)) else { return Self.tooLarge }
            return Self.response(await deployment.handle(Self.gatewayRequest(request, body: body, context: context)))
        }
    }

    /// `POST /invoke/{fnID}`: calls the function with the request's body and
    /// headers (the client's `Fn-*` headers dropped).
    private func invoke(_ request: inout Request, context: Context) async -> Response {
        let parts = request.uri.path.split(separator: "/")
        guard parts.count == 2 else { return Self.response(.error(.notFound, "expected /invoke/{fnID}")) }
        guard request.method == .post else { return Self.response(.error(.methodNotAllowed, "invoke takes POST", headers: [.allow: "POST"])) }
        guard let body = await collect(&request) else { return Self.tooLarge }
        let reference = String(parts[1])
        do {
            guard let spec = try await resolver.resolve(reference) else { return Self.response(.error(.notFound, "Fn not found")) }
            let call = HTTPTrigger.invokeCall(headers: request.headers, body: body, deadline: spec.callDeadline())
            return Self.response(HTTPTrigger.response(for: await invoker.invoke(spec, request: call)))
        } catch {
            return Self.response(.error(.badGateway, "function \(reference): \(error)"))
        }
    }

    /// `/t/{app}/{source...}`: the function of the app's HTTP trigger with that source.
    private func trigger(_ request: inout Request, context: Context) async -> Response {
        let path = request.uri.path
        let rest = path.dropFirst("/t/".count)
        guard let slash = rest.firstIndex(of: "/") else { return Self.response(.error(.notFound, "expected /t/{app}/{trigger source}")) }
        let app = String(rest[..<slash])
        var source = String(rest[slash...])
        if source.count > 1, source.hasSuffix("/") { source.removeLast() }
        let found: (App, Management.Function, Trigger)?
        do { found = try store.httpTrigger(app: app, source: source) } catch {
            return Self.response(.error(.internalServerError, "\(error)"))
        }
        guard let (_, function, _) = found else { return Self.response(.error(.notFound, "no trigger \(source) in app \(app)")) }
        guard let body = await collect(&request) else { return Self.tooLarge }
        let backend = FunctionRouteBackend(reference: function.id, resolver: resolver, invoker: invoker)
        return Self.response(await backend.respond(to: Self.gatewayRequest(request, body: body, context: context)))
    }

    private func deploymentsAPI(_ request: Request, path: String, body: ByteBuffer) async -> Response {
        let id = path.split(separator: "/").dropFirst(2).first.map(String.init)
        switch (request.method, id) {
        case (.get, nil):
            let list = gateway.deployments.map { ["id": $0.id, "displayName": $0.displayName ?? "", "pathPrefix": $0.pathPrefix] }
            return Self.json(.ok, ["items": list])
        case (.get, let id?):
            guard let data = await deployments.contents(id: id) else { return Self.response(.error(.notFound, "Deployment not found")) }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        case (.put, let id?):
            guard DeploymentDirectory.isValidID(id) else { return Self.response(.error(.badRequest, "invalid deployment id \(id): letters, digits, '-', '_' and '.'")) }
            do {
                try await deployments.put(id: id, data: Array(buffer: body))
                return Self.json(.ok, ["id": id])
            } catch let error as SpecValidationError {
                return Self.json(.badRequest, ["message": "invalid deployment spec", "errors": error.problems.map { ["path": $0.path, "message": $0.message] }])
            } catch {
                return Self.response(.error(.internalServerError, "\(error)"))
            }
        case (.delete, let id?):
            return await deployments.delete(id: id) ? Response(status: .noContent) : Self.response(.error(.notFound, "Deployment not found"))
        default:
            return Self.response(.error(.methodNotAllowed, "use GET /v2/deployments, or GET, PUT, DELETE /v2/deployments/{id}"))
        }
    }

    // MARK: Helpers

    /// True without a token, or with `Authorization: Bearer <token>`
    /// (compared in time that does not depend on where they differ).
    private func authorized(_ request: Request) -> Bool {
        guard let apiToken else { return true }
        let given = Array((request.headers[.authorization] ?? "").utf8), expected = Array("Bearer \(apiToken)".utf8)
        var difference = given.count ^ expected.count
        for index in expected.indices { difference |= Int(expected[index] ^ (index < given.count ? given[index] : 0)) }
        return difference == 0
    }

    /// A browser page of another origin may not drive the management API
    /// (cross-site request forgery against a loopback server with no token):
    /// an `Origin` header must name this server.
    private func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let authority = request.head.authority ?? request.headers[HTTPField.Name("Host")!] else { return false }
        return origin == "http://\(authority)" || origin == "https://\(authority)"
    }

    /// The whole body, or nil when it is over `limit` (default: the server's).
    private func collect(_ request: inout Request, limit: Int? = nil) async -> ByteBuffer? {
        try? await request.collectBody(upTo: limit ?? maxBodyBytes)
    }

    static func gatewayRequest(_ request: Request, body: ByteBuffer, context: Context) -> GatewayRequest {
        var gatewayRequest = GatewayRequest(method: request.method, path: request.uri.path, query: request.uri.query, headers: request.headers,
                                            body: body, clientAddress: context.remoteAddress?.ipAddress)
        gatewayRequest.authority = request.head.authority
        return gatewayRequest
    }

    static func response(_ answer: GatewayResponse) -> Response {
        Response(status: answer.status, headers: answer.headers, body: .init(byteBuffer: answer.body))
    }

    static func json(_ status: HTTPResponse.Status, _ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static var unauthorized: Response {
        response(.error(.unauthorized, "a bearer token is required", headers: [.wwwAuthenticate: "Bearer"]))
    }

    static var tooLarge: Response { response(tooLargeAnswer) }
    static var tooLargeAnswer: GatewayResponse { .error(.contentTooLarge, "request body too large") }
    static var requestTimeoutAnswer: GatewayResponse { .error(.requestTimeout, "the request did not arrive in time") }

    static var crossOrigin: Response { response(.error(.forbidden, "cross-origin requests to the management API are refused")) }
}

/// The paths `fnrt serve` answers itself, named once: Fn's API under `/v2`,
/// `/invoke/...`, HTTP triggers under `/t/...` (each a whole first
/// segment), and exactly `/metrics` and `/health`. Every other path is the
/// deployments'.
enum ServerPath: String, CaseIterable {
    case api = "v2", invoke, trigger = "t", metrics, health

    /// The server path `path` (which may carry a query) is under, if any;
    /// read on bytes, making no string: every request of the gateway's warm
    /// path asks.
    init?(_ path: String) {
        let path = path.utf8.prefix { $0 != UInt8(ascii: "?") }
        let first = path.drop { $0 == UInt8(ascii: "/") }.prefix { $0 != UInt8(ascii: "/") }
        guard let found = Self.allCases.first(where: { first.elementsEqual($0.rawValue.utf8) }) else { return nil }
        // `/metrics` and `/health` are single paths; under them, the deployments'.
        if found == .metrics || found == .health, !path.elementsEqual("/\(found.rawValue)".utf8) { return nil }
        self = found
    }
}
