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
        let request: GatewayRequest, route: CompiledRoute, corsPolicy: CORSPolicy?
        switch admit(incoming, routePath: routePath) {
        case .answered(let response): return response
        case .refused(let response, let refused, let policy): return finish(response, for: refused, cors: policy)
        case .routed(let routed, let matched, let policy): (request, route, corsPolicy) = (routed, matched, policy)
        }
        if let refusal = bodyLimitRefusal(request) { return finish(refusal, for: request, cors: corsPolicy) }
        var context = RequestContext(request: request)
        if let authenticator {
            let outcome = await authenticator.authenticate(&context)
            switch (outcome, route.authorization) {
            case (.accepted(let principal), _): context.request.principal = principal
            case (_, .anonymous): break
            case (.missing(let refusal), _), (.rejected(let refusal), _): return finish(refusal, for: request, cors: corsPolicy)
            }
        }
        if let refusal = authorizeAndTransform(&context, on: route) { return finish(refusal, for: request, cors: corsPolicy) }
        let response = await route.backend.respond(to: context.request)
        return finish(transformed(response, on: route, context: context), for: request, cors: corsPolicy)
    }

    /// Serves `incoming`, its answer given to `answer` on `eventLoop`. With
    /// no authentication to wait for, the policies and the routing run right
    /// here and the backend answers on the loop when it can (a warm
    /// function); a deployment with authentication is served in a task.
    func handle(_ incoming: GatewayRequest, routePath: Substring, on eventLoop: any EventLoop,
                answer: @escaping @Sendable (GatewayResponse) -> Void) {
        if authenticator != nil {
            return eventLoop.makeFutureWithTask { await self.handle(incoming, routePath: routePath) }.whenSuccess(answer)
        }
        let request: GatewayRequest, route: CompiledRoute, corsPolicy: CORSPolicy?
        switch admit(incoming, routePath: routePath) {
        case .answered(let response): return answer(response)
        case .refused(let response, let refused, let policy): return answer(finish(response, for: refused, cors: policy))
        case .routed(let routed, let matched, let policy): (request, route, corsPolicy) = (routed, matched, policy)
        }
        var context = RequestContext(request: request)
        if let refusal = bodyLimitRefusal(request) ?? authorizeAndTransform(&context, on: route) {
            return answer(finish(refusal, for: request, cors: corsPolicy))
        }
        route.backend.respond(to: context.request, on: eventLoop) { [context] response in
            answer(self.finish(self.transformed(response, on: route, context: context), for: request, cors: corsPolicy))
        }
    }

    private enum Admission {
        /// Answered before routing (429, a CORS preflight).
        case answered(GatewayResponse)
        /// Routed to no route (404, 405), with the CORS policy that decorates the answer.
        case refused(GatewayResponse, GatewayRequest, CORSPolicy?)
        case routed(GatewayRequest, CompiledRoute, CORSPolicy?)
    }

    /// Rate limiting, CORS preflight and routing.
    private func admit(_ incoming: GatewayRequest, routePath: Substring) -> Admission {
        var request = incoming
        request.routePath = routePath.isEmpty ? "/" : String(routePath)
        request.pathParameters = [:]
        request.principal = nil

        if let rateLimiter, let wait = rateLimiter.acquire(clientAddress: request.clientAddress) {
            return .answered(.error(.tooManyRequests, "too many requests", headers: [.retryAfter: String(wait)]))
        }

        let segments = Router.segments(of: routePath)
        if CORSPolicy.isPreflight(request), let wanted = request.headers[CORSPolicy.requestMethod] {
            let policy: CORSPolicy?
            switch router.match(method: wanted, segments: segments) {
            case .route(let index, _), .methodNotAllowed(_, let index): policy = routes[index].cors
            case .notFound: policy = nil
            }
            if let policy { return .answered(policy.preflight(request)) }
        }

        switch router.match(method: request.method.rawValue, segments: segments) {
        case .notFound:
            return .refused(.error(.notFound, "no route for \(request.routePath)"), request, cors)
        case .methodNotAllowed(let allow, let index):
            return .refused(.error(.methodNotAllowed, "method \(request.method.rawValue) is not allowed here", headers: [.allow: allow]),
                            request, routes[index].cors)
        case .route(let index, let values):
            let route = routes[index]
            for (name, value) in zip(route.parameterNames, values) { request.pathParameters[name] = value }
            return .routed(request, route, route.cors)
        }
    }

    /// The CORS headers of the actual response; no body for HEAD, but the
    /// length a GET would have had (RFC 9110: the same fields as for GET; it
    /// said `Content-Length: 0`), and neither for a status that has none
    /// (1xx, 204, 304), whatever a function or a stock response said.
    private func finish(_ answer: GatewayResponse, for request: GatewayRequest, cors: CORSPolicy?) -> GatewayResponse {
        var response = answer
        cors?.decorate(&response, for: request)
        if request.method == .head {
            if response.headers[.contentLength] == nil { response.headers[.contentLength] = String(response.body.readableBytes) }
            response.body = ByteBuffer()
        }
        if response.status.kind == .informational || response.status == .noContent || response.status == .notModified {
            response.body = ByteBuffer()
            response.headers[.contentLength] = nil
        }
        return response
    }

    private func bodyLimitRefusal(_ request: GatewayRequest) -> GatewayResponse? {
        guard request.body.readableBytes > maxBodyBytes
            || (request.headers[.contentLength].flatMap { Int($0) } ?? 0) > maxBodyBytes else { return nil }
        return .error(.contentTooLarge, "the request body is larger than \(maxBodyBytes) bytes")
    }

    /// `ANY_OF` scopes (403), then the request header and query transformations.
    private func authorizeAndTransform(_ context: inout RequestContext, on route: CompiledRoute) -> GatewayResponse? {
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
        return nil
    }

    /// The response header transformations.
    private func transformed(_ answer: GatewayResponse, on route: CompiledRoute, context: RequestContext) -> GatewayResponse {
        guard let transformation = route.responseHeaders else { return answer }
        var context = context
        var response = answer
        var headers = response.headers
        transformation.apply(to: &headers, context: &context)
        response.headers = headers
        return response
    }
}
