import NIOCore
import Runtime

/// Finds the function a spec or a URL names: `ID` or `app/function`.
/// The server's resolver reads fnrt's metadata store; another gateway can
/// resolve from its own configuration.
public protocol FunctionResolver: Sendable {
    /// The runtime settings of `reference`, or nil when there is no such function.
    /// Resolving may pull the function's image, so it may take a while the first time.
    func resolve(_ reference: String) async throws -> FunctionSpec?
    /// True when `reference` names a function; cheap, pulls nothing (spec validation).
    func contains(_ reference: String) async throws -> Bool
    /// The settings of `reference` when known without waiting (a cache), else
    /// nil; the gateway's warm path reads this on its event loop.
    func resolvedNow(_ reference: String) -> FunctionSpec?
}

extension FunctionResolver {
    public func resolvedNow(_ reference: String) -> FunctionSpec? { nil }
}

/// Runs calls: the scheduler, or anything that keeps the same promise
/// (never throws; every failure is a status and a reason).
public protocol FunctionInvoking: Sendable {
    func invoke(_ spec: FunctionSpec, request: FDKRequest) async -> InvocationResult
    /// The call made on a warm container, its result given to `completion`
    /// on `eventLoop` (true); false when there is none to take now (then
    /// `invoke`), and `completion` is not called.
    func invokeWarm(_ spec: FunctionSpec, request: FDKRequest, on eventLoop: any EventLoop,
                    completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool
}

extension FunctionInvoking {
    public func invokeWarm(_ spec: FunctionSpec, request: FDKRequest, on eventLoop: any EventLoop,
                           completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool { false }
}

extension Scheduler: FunctionInvoking {}
