import HTTPTypes
import NIOCore
import NIOPosix

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
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        // Never fails: every failure is a response.
        return (try? await handle(incoming, routePath: routePath, on: loop).get()) ?? .error(.internalServerError, "no answer")
    }

    /// Serves `incoming` with the answer on `eventLoop`. What needs no
    /// waiting runs right here (policies, routing, a backend that can answer
    /// on the loop, such as a warm function); authentication and backends
    /// that must wait run in a task.
    func handle(_ incoming: GatewayRequest, routePath: Substring, on eventLoop: any EventLoop) -> EventLoopFuture<GatewayResponse> {
        var request = incoming
        request.routePath = routePath.isEmpty ? "/" : String(routePath)
        request.pathParameters = [:]
        request.principal = nil

        if let rateLimiter, let wait = rateLimiter.acquire(clientAddress: request.clientAddress) {
            return eventLoop.makeSucceededFuture(.error(.tooManyRequests, "too many requests", headers: [.retryAfter: String(wait)]))
        }

        let segments = Router.segments(of: routePath)
        if CORSPolicy.isPreflight(request), let wanted = request.headers[CORSPolicy.requestMethod] {
            let policy: CORSPolicy?
            switch router.match(method: wanted, segments: segments) {
            case .route(let index, _), .methodNotAllowed(_, let index): policy = routes[index].cors
            case .notFound: policy = nil
            }
            if let policy { return eventLoop.makeSucceededFuture(policy.preflight(request)) }
        }

        let answer: EventLoopFuture<GatewayResponse>
        let corsPolicy: CORSPolicy?
        switch router.match(method: request.method.rawValue, segments: segments) {
        case .notFound:
            corsPolicy = cors
            answer = eventLoop.makeSucceededFuture(.error(.notFound, "no route for \(request.routePath)"))
        case .methodNotAllowed(let allow, let index):
            corsPolicy = routes[index].cors
            answer = eventLoop.makeSucceededFuture(.error(.methodNotAllowed, "method \(request.method.rawValue) is not allowed here", headers: [.allow: allow]))
        case .route(let index, let values):
            let route = routes[index]
            corsPolicy = route.cors
            for (name, value) in zip(route.parameterNames, values) { request.pathParameters[name] = value }
            answer = serve(request, on: route, eventLoop: eventLoop)
        }
        return answer.map { [request] answer in
            var response = answer
            corsPolicy?.decorate(&response, for: request)
            if request.method == .head { response.body = ByteBuffer() }
            return response
        }
    }

    /// The body limit, authentication (in a task, when the deployment has
    /// any), authorization, transformations, then the backend.
    private func serve(_ request: GatewayRequest, on route: CompiledRoute, eventLoop: any EventLoop) -> EventLoopFuture<GatewayResponse> {
        if request.body.readableBytes > maxBodyBytes
            || (request.headers[.contentLength].flatMap { Int($0) } ?? 0) > maxBodyBytes {
            return eventLoop.makeSucceededFuture(.error(.contentTooLarge, "the request body is larger than \(maxBodyBytes) bytes"))
        }
        guard let authenticator else {
            var context = RequestContext(request: request)
            return authorizeAndForward(&context, on: route, eventLoop: eventLoop)
        }
        return eventLoop.makeFutureWithTask { () async -> GatewayResponse in
            var context = RequestContext(request: request)
            let outcome = await authenticator.authenticate(&context)
            switch (outcome, route.authorization) {
            case (.accepted(let principal), _): context.request.principal = principal
            case (_, .anonymous): break
            case (.missing(let refusal), _), (.rejected(let refusal), _): return refusal
            }
            let answer = self.authorizeAndForward(&context, on: route, eventLoop: eventLoop)
            return (try? await answer.get()) ?? .error(.internalServerError, "no answer")
        }
    }

    private func authorizeAndForward(_ context: inout RequestContext, on route: CompiledRoute, eventLoop: any EventLoop) -> EventLoopFuture<GatewayResponse> {
        if case .anyOf(let allowed) = route.authorization,
           allowed.isDisjoint(with: context.request.principal?.scopes ?? []) {
            return eventLoop.makeSucceededFuture(.error(.forbidden, "none of the caller's scopes is allowed here"))
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
        let answer = route.backend.respond(to: context.request, on: eventLoop)
        guard let transformation = route.responseHeaders else { return answer }
        return answer.map { [context] answer in
            var context = context
            var response = answer
            var headers = response.headers
            transformation.apply(to: &headers, context: &context)
            response.headers = headers
            return response
        }
    }
}
