import Foundation
import NIOCore

/// What one run of a function came to, with how long its parts took.
public struct RunReport: Sendable {
    public var outcome: CallOutcome
    /// From asking for a container to a connection to its listener.
    public var startup: Duration
    /// The call itself.
    public var call: Duration
    /// The container's last lines of output when the call did not succeed
    /// (read before its removal, which takes them), else none.
    public var output: [String] = []
    /// How the container ended when the call did not succeed, as `ContainerState.describingEnd` says (or empty).
    public var end = ""
}

/// Runs a function for one call: start a container, wait until it listens,
/// call it over its socket, and remove it whatever happened.
public struct FunctionRunner: Sendable {
    public let driver: any ContainerDriver

    public init(driver: any ContainerDriver) { self.driver = driver }

    /// Runs `spec` once with `body` and `headers` (runtime headers `Fn-*`
    /// from the caller are dropped: a caller must not forge them).
    /// `onOutcome` sees the outcome as soon as the call ends, before the
    /// container is removed, so a caller can answer without waiting for that.
    public func run(_ spec: FunctionSpec, body: ByteBuffer, headers: [(String, String)] = [],
                    onOutcome: (CallOutcome) -> Void = { _ in }) async throws -> RunReport {
        let clock = ContinuousClock()
        let started = clock.now
        let (container, connection) = try await driver.startListening(spec)
        let listening = clock.now
        let safeHeaders = headers.filter { !$0.0.lowercased().hasPrefix("fn-") }
        let request = FDKRequest(deadline: spec.callDeadline(), headers: safeHeaders, body: body)
        let outcome = await connection.call(request, timeout: spec.timeout)
        let finished = clock.now
        connection.close()
        onOutcome(outcome)
        if outcome.containerIsBroken { try? await driver.kill(container) }
        var (output, end): ([String], String) = ([], "")
        if case .success = outcome {} else { (output, end) = await driver.lastWords(of: container, memoryMB: spec.memoryMB) }
        try? await driver.remove(container)
        return RunReport(outcome: outcome, startup: listening - started, call: finished - listening, output: output, end: end)
    }
}
