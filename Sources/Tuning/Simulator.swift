import Foundation

/// What a policy did to one function.
public struct FunctionOutcome: Sendable, Equatable {
    public var invocations: Int
    public var coldStarts: Int
    /// Memory held by an idle (loaded, not running) container, in GB-seconds.
    public var idleMemoryGBSeconds: Double
    public var coldStartRate: Double { invocations == 0 ? 0 : Double(coldStarts) / Double(invocations) }

    public init(invocations: Int, coldStarts: Int, idleMemoryGBSeconds: Double) {
        self.invocations = invocations
        self.coldStarts = coldStarts
        self.idleMemoryGBSeconds = idleMemoryGBSeconds
    }
}

/// Replays traces against keep-alive policies.
///
/// Calls that arrive together share one container (the Azure data counts
/// per minute). After a call ends the policy's windows apply: with no
/// pre-warm the container stays `keepAlive` seconds; with a pre-warm it is
/// unloaded at once and loaded again from `prewarm` to `keepAlive`. The next
/// call is warm when it finds the container loaded. Idle memory is the loaded
/// time without a call, until the trace's horizon.
public enum Simulator {
    public static func simulate(_ trace: FunctionTrace, policy: any KeepAlivePolicy, horizon: Double) -> FunctionOutcome {
        var state = policy.makeState()
        let memoryGB = trace.memoryMB / 1024
        var outcome = FunctionOutcome(invocations: 0, coldStarts: 0, idleMemoryGBSeconds: 0)
        var previousEnd: Double?
        var windows = Windows(prewarm: 0, keepAlive: 0)
        for arrival in trace.arrivals {
            outcome.invocations += arrival.count
            if let end = previousEnd {
                let gap = max(0, arrival.time - end)
                let (warm, idle) = apply(windows, gap: gap)
                if !warm { outcome.coldStarts += 1 }
                outcome.idleMemoryGBSeconds += idle * memoryGB
                state.observe(idleTime: gap)
            } else {
                outcome.coldStarts += 1
            }
            previousEnd = arrival.time + arrival.duration
            windows = state.windows()
        }
        if let end = previousEnd {
            // After the last call: loaded until the windows close or the trace ends.
            let remaining = max(0, horizon - end)
            outcome.idleMemoryGBSeconds += apply(windows, gap: remaining).idle * memoryGB
        }
        return outcome
    }

    /// Whether a call `gap` seconds after the last one ended finds the
    /// container loaded, and how long it sat loaded and idle meanwhile.
    static func apply(_ windows: Windows, gap: Double) -> (warm: Bool, idle: Double) {
        if windows.prewarm <= 0 {
            return (gap <= windows.keepAlive, min(gap, windows.keepAlive))
        }
        let warm = gap >= windows.prewarm && gap <= windows.keepAlive
        let idle = gap <= windows.prewarm ? 0 : min(gap, windows.keepAlive) - windows.prewarm
        return (warm, max(0, idle))
    }
}

/// A policy's totals over a whole trace.
public struct PolicyReport: Codable, Sendable {
    public var name: String
    public var functions: Int
    public var invocations: Int
    public var coldStarts: Int
    public var coldStartRate: Double
    public var idleMemoryGBSeconds: Double
    /// The 75th percentile of per-app cold-start rates (the paper's figure).
    public var appColdStartRateP75: Double
    /// Seconds the simulation took.
    public var simulationSeconds: Double
}

/// Accumulates per-function outcomes into a `PolicyReport`, and keeps them
/// for recommendations.
public struct PolicyTotals: Sendable {
    public let name: String
    public private(set) var functions = 0
    public private(set) var invocations = 0
    public private(set) var coldStarts = 0
    public private(set) var idle = 0.0
    private var apps: [String: (invocations: Int, cold: Int)] = [:]

    public init(name: String) { self.name = name }

    public mutating func add(_ key: FunctionKey, _ outcome: FunctionOutcome) {
        functions += 1
        invocations += outcome.invocations
        coldStarts += outcome.coldStarts
        idle += outcome.idleMemoryGBSeconds
        let app = "\(key.owner)/\(key.app)"
        apps[app, default: (0, 0)].invocations += outcome.invocations
        apps[app, default: (0, 0)].cold += outcome.coldStarts
    }

    public func report(seconds: Double) -> PolicyReport {
        let rates = apps.values.filter { $0.invocations > 0 }.map { Double($0.cold) / Double($0.invocations) }.sorted()
        let p75 = rates.isEmpty ? 0 : rates[min(rates.count - 1, Int((0.75 * Double(rates.count)).rounded(.up)) - 1)]
        return PolicyReport(name: name, functions: functions, invocations: invocations, coldStarts: coldStarts,
                            coldStartRate: invocations == 0 ? 0 : Double(coldStarts) / Double(invocations),
                            idleMemoryGBSeconds: idle, appColdStartRateP75: p75, simulationSeconds: seconds)
    }
}
