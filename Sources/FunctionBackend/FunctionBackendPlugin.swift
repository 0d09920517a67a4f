import Foundation
import Gateway
import NIOCore
import Runtime

/// The runtime as the gateway's `ORACLE_FUNCTIONS_BACKEND`: routes whose
/// backend names a function (`{"type": "ORACLE_FUNCTIONS_BACKEND",
/// "functionId": "acmeapp/acme-func"}`) call it through the scheduler with
/// Fn's HTTP-trigger headers.
///
/// To use it from another Swift gateway: make a `Scheduler` with a
/// `ContainerDriver`, a `FunctionResolver` for your function names, then
/// either register this plugin with a `Gateway`, or call
/// `FunctionRouteBackend(reference:resolver:invoker:).respond(to:)` with a
/// `GatewayRequest` built from your server's request.
public struct FunctionBackendPlugin: BackendPlugin {
    public let type = "ORACLE_FUNCTIONS_BACKEND"
    let resolver: any FunctionResolver
    let invoker: any FunctionInvoking

    public init(resolver: any FunctionResolver, invoker: any FunctionInvoking) {
        self.resolver = resolver
        self.invoker = invoker
    }

    public func makeBackend(_ backend: JSONValue, path: String) async throws -> any GatewayBackend {
        guard let reference = backend["functionId"]?.stringValue, !reference.isEmpty else {
            throw SpecValidationError(problems: [SpecProblem(path: "\(path).functionId", message: "required: a function id or app/function")])
        }
        let found: Bool
        do {
            found = try await resolver.contains(reference)
        } catch {
            throw SpecValidationError(problems: [SpecProblem(path: "\(path).functionId", message: "\(reference): \(error)")])
        }
        guard found else {
            throw SpecValidationError(problems: [SpecProblem(path: "\(path).functionId", message: "no such function: \(reference)")])
        }
        return FunctionRouteBackend(reference: reference, resolver: resolver, invoker: invoker)
    }
}

/// Calls one function for each request. The function is resolved on every
/// request (the resolver caches), so changed settings apply to the next call.
public struct FunctionRouteBackend: GatewayBackend {
    public let reference: String
    let resolver: any FunctionResolver
    let invoker: any FunctionInvoking

    public init(reference: String, resolver: any FunctionResolver, invoker: any FunctionInvoking) {
        self.reference = reference
        self.resolver = resolver
        self.invoker = invoker
    }

    public func respond(to request: GatewayRequest) async -> GatewayResponse {
        let spec: FunctionSpec
        do {
            guard let found = try await resolver.resolve(reference) else {
                return .error(.notFound, "no such function: \(reference)")
            }
            spec = found
        } catch {
            return .error(.badGateway, "function \(reference): \(error)")
        }
        let call = HTTPTrigger.call(for: request, deadline: spec.callDeadline())
        return HTTPTrigger.response(for: await invoker.invoke(spec, request: call))
    }

    /// A function already resolved with a warm container is called without
    /// leaving `eventLoop`; anything else (resolving, a cold start, a queue)
    /// goes through `respond(to:)` in a task.
    public func respond(to request: GatewayRequest, on eventLoop: any EventLoop, answer: @escaping @Sendable (GatewayResponse) -> Void) {
        if let spec = resolver.resolvedNow(reference),
           invoker.invokeWarm(spec, request: HTTPTrigger.call(for: request, deadline: spec.callDeadline()),
                              on: eventLoop, completion: { answer(HTTPTrigger.response(for: $0)) }) {
            return
        }
        eventLoop.makeFutureWithTask { await self.respond(to: request) }.whenSuccess(answer)
    }
}
