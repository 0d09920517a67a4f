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
}

/// Runs calls: the scheduler, or anything that keeps the same promise
/// (never throws; every failure is a status and a reason).
public protocol FunctionInvoking: Sendable {
    func invoke(_ spec: FunctionSpec, request: FDKRequest) async -> InvocationResult
}

extension Scheduler: FunctionInvoking {}
