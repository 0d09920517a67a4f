import Foundation

/// When a function's container is loaded after a call ends: unloaded at
/// once and loaded again `prewarm` seconds later (0: never unloaded), then
/// kept until `keepAlive` seconds after the call ended.
public struct Windows: Equatable, Sendable {
    public var prewarm: Double
    public var keepAlive: Double

    public init(prewarm: Double, keepAlive: Double) {
        self.prewarm = prewarm
        self.keepAlive = keepAlive
    }
}

/// A keep-alive policy: decides each function's windows from what it has seen.
public protocol KeepAlivePolicy: Sendable {
    var name: String { get }
    /// A fresh per-function state.
    func makeState() -> any KeepAliveState
}

/// What a policy remembers of one function.
public protocol KeepAliveState {
    /// The windows to use after the call that just ended.
    mutating func windows() -> Windows
    /// An idle time (seconds between one call's end and the next call) was seen.
    mutating func observe(idleTime: Double)
}

/// A fixed idle timeout, as Fn's (30 s) or OCI Functions'.
public struct FixedKeepAlive: KeepAlivePolicy {
    public var timeout: Double
    public var name: String

    public init(seconds: Double) {
        timeout = seconds
        name = "fixed:" + Self.format(seconds)
    }

    static func format(_ seconds: Double) -> String {
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600))h" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        return "\(Int(seconds))s"
    }

    struct State: KeepAliveState {
        let timeout: Double
        func windows() -> Windows { Windows(prewarm: 0, keepAlive: timeout) }
        func observe(idleTime: Double) {}
    }

    public func makeState() -> any KeepAliveState { State(timeout: timeout) }
}

/// Never unload: the lower bound on cold starts (one per function).
public struct NoUnloading: KeepAlivePolicy {
    public let name = "no-unloading"
    public init() {}

    struct State: KeepAliveState {
        func windows() -> Windows { Windows(prewarm: 0, keepAlive: .infinity) }
        func observe(idleTime: Double) {}
    }

    public func makeState() -> any KeepAliveState { State() }
}

/// The hybrid histogram policy of Shahrad et al. (ATC 2020, section 4.2):
/// per function, a histogram of idle times in 1-minute bins over a 4-hour
/// range. When it is representative (enough observations, and the bin counts'
/// coefficient of variation at least `cvThreshold`), the container is unloaded
/// after a call, pre-warmed at the head percentile less a margin, and kept
/// until the tail percentile plus a margin. Otherwise a fixed keep-alive of
/// the whole range is used. When most idle times fall out of the range, the
/// paper forecasts the next with ARIMA; this version falls back to pre-warming
/// at 90% of the last out-of-range idle time and keeping the container for a
/// range after it (stated simplification).
public struct HybridHistogram: KeepAlivePolicy, Hashable {
    public var range: Double = 4 * 3600
    public var binWidth: Double = 60
    public var headPercentile: Double = 5
    public var tailPercentile: Double = 99
    public var margin: Double = 0.10
    public var cvThreshold: Double = 2
    /// Idle times needed before the histogram is used at all (the CV test then judges it).
    public var minimumObservations = 2
    public var outOfRangeShare: Double = 0.5
    public var name = "hybrid"

    public init() {}

    public func makeState() -> any KeepAliveState { State(policy: self) }

    struct State: KeepAliveState {
        let policy: HybridHistogram
        var bins: [Int]
        var observed = 0
        var outOfRange = 0
        var lastOutOfRange: Double = 0
        /// Running sums of the bin counts and their squares: the CV in constant time.
        var inRange = 0
        var sumOfSquares = 0
        var lowest = Int.max, highest = -1
        var cached: Windows?

        init(policy: HybridHistogram) {
            self.policy = policy
            bins = Array(repeating: 0, count: Int((policy.range / policy.binWidth).rounded(.up)))
        }

        mutating func observe(idleTime: Double) {
            observed += 1
            cached = nil
            let bin = max(0, Int(idleTime / policy.binWidth))
            if bin >= bins.count {
                outOfRange += 1
                lastOutOfRange = idleTime
            } else {
                sumOfSquares += 2 * bins[bin] + 1
                bins[bin] += 1
                inRange += 1
                lowest = min(lowest, bin)
                highest = max(highest, bin)
            }
        }

        mutating func windows() -> Windows {
            if let cached { return cached }
            let windows = compute()
            cached = windows
            return windows
        }

        func compute() -> Windows {
            let standard = Windows(prewarm: 0, keepAlive: policy.range)
            guard observed >= policy.minimumObservations else { return standard }
            if Double(outOfRange) / Double(observed) > policy.outOfRangeShare {
                return Windows(prewarm: 0.9 * lastOutOfRange, keepAlive: lastOutOfRange + policy.range)
            }
            guard inRange > 0, coefficientOfVariation() >= policy.cvThreshold else { return standard }
            let head = percentileEdge(policy.headPercentile, of: inRange, upper: false)
            let tail = percentileEdge(policy.tailPercentile, of: inRange, upper: true)
            let prewarm = head * (1 - policy.margin)
            // A pre-warm under a minute is not worth an unload.
            return Windows(prewarm: prewarm < policy.binWidth ? 0 : prewarm, keepAlive: tail * (1 + policy.margin))
        }

        /// The edge of the bin holding the `p`th percentile of in-range idle times.
        func percentileEdge(_ p: Double, of total: Int, upper: Bool) -> Double {
            let target = max(1, Int((p / 100 * Double(total)).rounded(.up)))
            var running = 0
            for index in lowest...highest {
                running += bins[index]
                if running >= target { return Double(upper ? index + 1 : index) * policy.binWidth }
            }
            return policy.range
        }

        func coefficientOfVariation() -> Double {
            let n = Double(bins.count)
            let mean = Double(inRange) / n
            guard mean > 0 else { return 0 }
            let variance = max(0, Double(sumOfSquares) / n - mean * mean)
            return variance.squareRoot() / mean
        }
    }
}

/// Parses `fixed:10m`, `fixed:30s`, `fixed:2h`, `hybrid`, `no-unloading`, and Fn's presets
/// `fn` (30 s), `10m`, `20m`.
public func parsePolicy(_ text: String) throws -> any KeepAlivePolicy {
    switch text {
    case "hybrid": return HybridHistogram()
    case "no-unloading", "none": return NoUnloading()
    case "fn": return FixedKeepAlive(seconds: 30)
    default: break
    }
    let spec = text.hasPrefix("fixed:") ? String(text.dropFirst("fixed:".count)) : text
    guard let seconds = parseDuration(spec) else {
        throw TraceError(file: "--policy", line: 0, reason: "'\(text)' is not a policy: fixed:<N>s|m|h, hybrid, no-unloading")
    }
    return FixedKeepAlive(seconds: seconds)
}

func parseDuration(_ text: String) -> Double? {
    guard let unit = text.last, let value = Double(text.dropLast()), value > 0 else { return nil }
    switch unit {
    case "s": return value
    case "m": return value * 60
    case "h": return value * 3600
    default: return nil
    }
}
