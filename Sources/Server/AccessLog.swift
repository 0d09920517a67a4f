import Logging
import Synchronization

/// One request's access-log line: what `FnrtResponder.logAccess` logs
/// through swift-log as `client=<address> hb.request.id=<id> us=<µs>
/// [Server] <METHOD> <path> <status>`.
public struct AccessLine: Sendable {
    public var method: String
    public var path: String
    public var status: Int
    /// The client's address; nil: unknown (`-`).
    public var client: String?
    /// From the request's head to its answer written.
    public var microseconds: Int64
    /// The request id, written as 32 hex digits.
    public var requestID: (high: UInt64, low: UInt64)

    /// Whole microseconds from `started` to now, as the access log gives a request's time.
    static func microseconds(since started: ContinuousClock.Instant) -> Int64 {
        let elapsed = (ContinuousClock.now - started).components
        return elapsed.seconds * 1_000_000 + elapsed.attoseconds / 1_000_000_000_000
    }

    /// A fresh request id: a random half for this process, then a counter.
    static func nextRequestID() -> (high: UInt64, low: UInt64) {
        (requestIDHigh, requestIDLow.add(1, ordering: .relaxed).newValue)
    }

    private static let requestIDHigh = UInt64.random(in: .min ... .max)
    private static let requestIDLow = Atomic<UInt64>(UInt64.random(in: .min ... .max) >> 1)
}

/// Writes access-log lines without swift-log's metadata: a dictionary, a
/// sort and a string per field on every request were about 6% of the
/// gateway's warm path. `fnrt serve`'s log handler formats them straight
/// into the bytes it writes, as its `log(event:)` would format the line of
/// a logger labelled `label` at level info in module `Server`. The
/// gateway's own connections use it when the server has one
/// (`ServerConfiguration.accessLog`); other requests log through swift-log.
public protocol AccessLogWriter: Sendable {
    func write(_ line: AccessLine, label: String)
}
