import HTTPTypes
import NIOCore

/// One route, ready to serve: everything parsed at deploy time.
final class CompiledRoute: Sendable {
    let parameterNames: [String]
    let backend: any GatewayBackend
    let authorization: Authorization
    /// The route's own `cors`, else the deployment's.
    let cors: CORSPolicy?
    let requestHeaders: HeaderTransformation?
    let query: QueryTransformation?
    let responseHeaders: HeaderTransformation?

    init(parameterNames: [String], backend: any GatewayBackend, authorization: Authorization, cors: CORSPolicy?,
         requestHeaders: HeaderTransformation?, query: QueryTransformation?, responseHeaders: HeaderTransformation?) {
        self.parameterNames = parameterNames
        self.backend = backend
        self.authorization = authorization
        self.cors = cors
        self.requestHeaders = requestHeaders
        self.query = query
        self.responseHeaders = responseHeaders
    }
}

/// A validated deployment: its router and policies, immutable once built.
///
/// A request goes through, in order: rate limiting, routing (404, or 405 with
/// `Allow`), CORS (a preflight is answered here), the body limit (413),
/// authentication (401), authorization (403), request header and query
/// transformations, the backend, response header transformations, and the
/// CORS headers of the actual response.
final class CompiledDeployment: Sendable {
    let id: String
    let deployment: Deployment
    let router: Router
    let routes: [CompiledRoute]
    let rateLimiter: RateLimiter?
    let cors: CORSPolicy?
    let authenticator: (any Authenticator)?
    let maxBodyBytes: Int

    init(id: String, deployment: Deployment, router: Router, routes: [CompiledRoute], rateLimiter: RateLimiter?,
         cors: CORSPolicy?, authenticator: (any Authenticator)?, maxBodyBytes: Int) {
        self.id = id
        self.deployment = deployment
        self.router = router
        self.routes = routes
        self.rateLimiter = rateLimiter
        self.cors = cors
        self.authenticator = authenticator
        self.maxBodyBytes = maxBodyBytes
    }

    var prefix: String { deployment.pathPrefix }

    /// Serves `incoming`, whose path is `prefix` + `routePath`.
    func handle(_ incoming: GatewayRequest, routePath: Substring) async -> GatewayResponse {
        var request = incoming
        request.routePath = routePath.isEmpty ? "/" : String(routePath)
        request.pathParameters = [:]
        request.principal = nil

        if let rateLimiter, let wait = rateLimiter.acquire(clientAddress: request.clientAddress) {
            return .error(.tooManyRequests, "too many requests", headers: [.retryAfter: String(wait)])
        }

        let segments = Router.segments(of: routePath)
        if CORSPolicy.isPreflight(request), let wanted = request.headers[CORSPolicy.requestMethod] {
            let policy: CORSPolicy?
            switch router.match(method: wanted, segments: segments) {
            case .route(let index, _), .methodNotAllowed(_, let index): policy = routes[index].cors
            case .notFound: policy = nil
            }
            if let policy { return policy.preflight(request) }
        }

        var response: GatewayResponse
        let corsPolicy: CORSPolicy?
        switch router.match(method: request.method.rawValue, segments: segments) {
        case .notFound:
            corsPolicy = cors
            response = .error(.notFound, "no route for \(request.routePath)")
        case .methodNotAllowed(let allow, let index):
            corsPolicy = routes[index].cors
            response = .error(.methodNotAllowed, "method \(request.method.rawValue) is not allowed here", headers: [.allow: allow])
        case .route(let index, let values):
            let route = routes[index]
            corsPolicy = route.cors
            for (name, value) in zip(route.parameterNames, values) { request.pathParameters[name] = value }
            response = await serve(request, on: route)
        }
        corsPolicy?.decorate(&response, for: request)
        if request.method == .head { response.body = ByteBuffer() }
        return response
    }

    private func serve(_ request: GatewayRequest, on route: CompiledRoute) async -> GatewayResponse {
        if request.body.readableBytes > maxBodyBytes
            || (request.headers[.contentLength].flatMap { Int($0) } ?? 0) > maxBodyBytes {
            return .error(.contentTooLarge, "the request body is larger than \(maxBodyBytes) bytes")
        }
        var context = RequestContext(request: request)
        if let authenticator {
            let outcome = await authenticator.authenticate(&context)
            switch (outcome, route.authorization) {
            case (.accepted(let principal), _): context.request.principal = principal
            case (_, .anonymous): break
            case (.missing(let refusal), _), (.rejected(let refusal), _): return refusal
            }
        }
        if case .anyOf(let allowed) = route.authorization,
           allowed.isDisjoint(with: context.request.principal?.scopes ?? []) {
            return .error(.forbidden, "none of the caller's scopes is allowed here")
        }
        if let transformation = route.requestHeaders {
            var headers = context.request.headers
            transformation.apply(to: &headers, context: &context)
            context.request.headers = headers
        }
        if let transformation = route.query {
            var query = context.query
            transformation.apply(to: &query, context: &context)
            context.setQuery(query)
        }
        var response = await route.backend.respond(to: context.request)
        if let transformation = route.responseHeaders {
            var headers = response.headers
            transformation.apply(to: &headers, context: &context)
            response.headers = headers
        }
        return response
    }
}
