#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import Synchronization

/// A deployment's `rateLimiting`: a token bucket of `rateInRequestsPerSecond`
/// tokens (the burst is one second's worth) per client IP, or one for all
/// (`TOTAL`). An IPv6 client is keyed by its /64 prefix, as OCI does, since
/// one host often owns a whole /64. Over the rate: 429 with `Retry-After`.
final class RateLimiter: Sendable {
    enum Key: Hashable, Sendable {
        case total
        case ipv4(UInt32)
        case ipv6Prefix(UInt64)
        case other(String)
    }

    private struct Bucket {
        var tokens: Double
        var updated: UInt64
    }

    private struct State {
        var buckets: [Key: Bucket] = [:]
        var lastSweep: UInt64 = 0
    }

    let rate: Double
    let perClient: Bool
    private let capacity: Double
    private let state = Mutex(State())

    /// Buckets kept before full ones are swept away.
    static let sweepThreshold = 4096
    /// Beyond this many clients, every bucket is dropped (a flood of addresses).
    static let maxBuckets = 200_000

    init(rate: Int, perClient: Bool) {
        self.rate = Double(rate)
        self.capacity = Double(max(rate, 1))
        self.perClient = perClient
    }

    static func parse(_ object: [String: JSONValue], _ path: String, _ reader: inout SpecReader) -> RateLimiter? {
        let before = reader.problems.count
        let rate = reader.integer(object, "rateInRequestsPerSecond", path, required: true)
        if let rate, rate <= 0 { reader.problem(SpecReader.join(path, "rateInRequestsPerSecond"), "must be more than 0") }
        let key = reader.enumeration(object, "rateKey", path, ["CLIENT_IP", "TOTAL"], required: true)
        guard reader.problems.count == before, let rate, let key else { return nil }
        return RateLimiter(rate: rate, perClient: key == "CLIENT_IP")
    }

    /// Takes a token for `clientAddress`: nil when allowed, else the seconds to wait.
    func acquire(clientAddress: String?, now: UInt64 = NIODeadline.now().uptimeNanoseconds) -> Int? {
        let key = perClient ? Self.key(for: clientAddress) : .total
        return state.withLock { state -> Int? in
            var bucket = state.buckets[key] ?? Bucket(tokens: capacity, updated: now)
            let elapsed = Double(now &- bucket.updated) / 1e9
            bucket.tokens = min(capacity, bucket.tokens + max(elapsed, 0) * rate)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            state.buckets[key] = bucket
            if state.buckets.count > Self.sweepThreshold, now &- state.lastSweep > 1_000_000_000 {
                sweep(&state, now: now)
            }
            return allowed ? nil : max(1, Int((1 - bucket.tokens) / rate + 0.999_999))
        }
    }

    /// Drops the buckets that have refilled: forgetting them changes nothing.
    private func sweep(_ state: inout State, now: UInt64) {
        state.lastSweep = now
        state.buckets = state.buckets.filter { _, bucket in
            bucket.tokens + Double(now &- bucket.updated) / 1e9 * rate < capacity
        }
        if state.buckets.count > Self.maxBuckets { state.buckets = [:] }
    }

    /// The bucket key of a client address: IPv4 whole, IPv6 by its /64
    /// (an IPv4-mapped IPv6 address counts as the IPv4 one).
    static func key(for address: String?) -> Key {
        guard var text = address, !text.isEmpty else { return .other("") }
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return .ipv4(UInt32(bigEndian: v4.s_addr))
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let bytes = withUnsafeBytes(of: &v6) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
                return .ipv4(bytes[12..<16].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            }
            return .ipv6Prefix(bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
        return .other(text)
    }
}
