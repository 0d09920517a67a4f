import Foundation

/// Where a trace comes from.
public enum TraceSource: Sendable {
    case azure(invocations: String, memory: String?, durations: String?)
    /// fnrt's trace at this path, with the file rotated from it (`FnrtTrace.files`).
    case fnrt(String)

    /// The trace at `path`, its format told by its first character: `{`
    /// begins fnrt's JSON Lines, anything else is taken for the Azure CSV.
    public static func detecting(_ path: String, memory: String?, durations: String?) -> TraceSource {
        var first: UInt8 = 0
        if let handle = FileHandle(forReadingAtPath: path) {
            defer { try? handle.close() }
            first = (try? handle.read(upToCount: 256))?.first { !$0.isASCIIWhitespace } ?? 0
        }
        return first == UInt8(ascii: "{") ? .fnrt(path) : .azure(invocations: path, memory: memory, durations: durations)
    }
}

private extension UInt8 {
    var isASCIIWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}

/// How to choose each function's idle timeout.
public enum Objective: Sendable {
    /// Least `coldStarts × coldStartSeconds × memoryGB + idle GB-seconds`:
    /// a cold start priced as that many seconds of the function's memory.
    case cost(coldStartSeconds: Double)
    /// The least idle memory whose cold-start rate is at most `rate`.
    case coldStartRate(Double)
}

/// A recommended idle timeout for one function.
public struct Recommendation: Codable, Sendable, Equatable {
    public var app: String
    public var function: String
    public var idleTimeoutSeconds: Double
    public var coldStarts: Int
    public var invocations: Int
    public var idleMemoryGBSeconds: Double
}

/// Everything `fnrt tune` reports.
public struct TuneReport: Codable, Sendable {
    public var policies: [PolicyReport]
    public var recommendations: [Recommendation]
    /// The fixed-timeout curve (for the plot): one point per candidate timeout.
    public var curve: [PolicyReport]
    public var skippedRows: [String]
}

/// Replays a trace against policies, and recommends a per-function idle timeout.
public struct Tuner {
    public var policies: [any KeepAlivePolicy]
    /// Timeouts tried for recommendations and drawn as the fixed curve (Fn allows 1 s to 3,600 s; the curve goes to 4 h).
    public var candidates: [Double] = [30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400]
    public var objective: Objective = .cost(coldStartSeconds: 60)
    public var malformed: MalformedRows = .refuse

    public init(policies: [any KeepAlivePolicy]) { self.policies = policies }

    public func run(_ source: TraceSource) throws -> TuneReport {
        let curvePolicies = candidates.map { FixedKeepAlive(seconds: $0) }
        var totals = policies.map { PolicyTotals(name: $0.name) }
        var curveTotals = curvePolicies.map { PolicyTotals(name: $0.name) }
        var times = Array(repeating: 0.0, count: policies.count)
        var recommendations: [Recommendation] = []
        var skipped: [TraceError] = []
        let clock = ContinuousClock()

        func visit(_ trace: FunctionTrace, horizon: Double) {
            for (index, policy) in policies.enumerated() {
                let started = clock.now
                totals[index].add(trace.key, Simulator.simulate(trace, policy: policy, horizon: horizon))
                let d = clock.now - started
                times[index] += Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            }
            var outcomes: [(Double, FunctionOutcome)] = []
            for (index, policy) in curvePolicies.enumerated() {
                let outcome = Simulator.simulate(trace, policy: policy, horizon: horizon)
                curveTotals[index].add(trace.key, outcome)
                outcomes.append((policy.timeout, outcome))
            }
            if let best = choose(outcomes, memoryGB: trace.memoryMB / 1024) {
                recommendations.append(Recommendation(app: trace.key.app, function: trace.key.function, idleTimeoutSeconds: best.0,
                                                      coldStarts: best.1.coldStarts, invocations: best.1.invocations,
                                                      idleMemoryGBSeconds: best.1.idleMemoryGBSeconds))
            }
        }

        switch source {
        case .azure(let invocations, let memory, let durations):
            var trace = try AzureTrace(path: invocations, memoryPath: memory, durationsPath: durations, malformed: malformed)
            let horizon = trace.horizon
            try trace.forEachFunction { visit($0, horizon: horizon) }
            skipped = trace.skipped
        case .fnrt(let path):
            let read = try FnrtTrace.read(files: FnrtTrace.files(path), malformed: malformed)
            read.functions.forEach { visit($0, horizon: read.horizon) }
            skipped = read.skipped
        }
        return TuneReport(policies: zip(totals, times).map { $0.report(seconds: $1) },
                          recommendations: recommendations,
                          curve: curveTotals.map { $0.report(seconds: 0) },
                          skippedRows: skipped.map(\.description))
    }

    /// The candidate that best meets the objective (ties: the shorter timeout).
    func choose(_ outcomes: [(Double, FunctionOutcome)], memoryGB: Double) -> (Double, FunctionOutcome)? {
        switch objective {
        case .cost(let seconds):
            return outcomes.min { a, b in
                let ca = Double(a.1.coldStarts) * seconds * memoryGB + a.1.idleMemoryGBSeconds
                let cb = Double(b.1.coldStarts) * seconds * memoryGB + b.1.idleMemoryGBSeconds
                return ca < cb || (ca == cb && a.0 < b.0)
            }
        case .coldStartRate(let rate):
            let meeting = outcomes.filter { $0.1.coldStartRate <= rate }
            return meeting.min { $0.1.idleMemoryGBSeconds < $1.1.idleMemoryGBSeconds || ($0.1.idleMemoryGBSeconds == $1.1.idleMemoryGBSeconds && $0.0 < $1.0) }
                ?? outcomes.last
        }
    }
}

extension TuneReport {
    /// The policies as CSV: one row each.
    public var csv: String {
        (["policy,functions,invocations,coldStarts,coldStartRate,idleMemoryGBSeconds,appColdStartRateP75,simulationSeconds"]
            + policies.map { p in
                "\(p.name),\(p.functions),\(p.invocations),\(p.coldStarts),\(p.coldStartRate),\(p.idleMemoryGBSeconds),\(p.appColdStartRateP75),\(p.simulationSeconds)"
            }).joined(separator: "\n") + "\n"
    }

    /// Cold-start rate against idle memory: the fixed timeouts as a curve,
    /// every requested policy as a labelled point.
    public var svg: String {
        let points = curve + policies
        let maxX = max(1e-9, points.map(\.idleMemoryGBSeconds).max() ?? 1)
        let maxY = max(1e-9, points.map(\.coldStartRate).max() ?? 1)
        let (w, h, m) = (640.0, 420.0, 60.0)
        func x(_ v: Double) -> Double { m + v / maxX * (w - 2 * m) }
        func y(_ v: Double) -> Double { h - m - v / maxY * (h - 2 * m) }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <line x1="\(m)" y1="\(h - m)" x2="\(w - m)" y2="\(h - m)" stroke="black"/>
        <line x1="\(m)" y1="\(m)" x2="\(m)" y2="\(h - m)" stroke="black"/>
        <text x="\(w / 2)" y="\(h - 15)" text-anchor="middle">idle memory (GB-seconds, max \(String(format: "%.3g", maxX)))</text>
        <text x="15" y="\(h / 2)" text-anchor="middle" transform="rotate(-90 15 \(h / 2))">cold-start rate (max \(String(format: "%.3g", maxY)))</text>

        """
        let path = curve.map { String(format: "%.1f,%.1f", x($0.idleMemoryGBSeconds), y($0.coldStartRate)) }.joined(separator: " ")
        svg += "<polyline fill=\"none\" stroke=\"steelblue\" stroke-width=\"2\" points=\"\(path)\"/>\n"
        for p in curve {
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"steelblue\"/><text x=\"%.1f\" y=\"%.1f\" fill=\"steelblue\">%@</text>\n",
                          x(p.idleMemoryGBSeconds), y(p.coldStartRate), x(p.idleMemoryGBSeconds) + 5, y(p.coldStartRate) - 5, p.name as NSString)
        }
        for p in policies where !curve.contains(where: { $0.name == p.name }) {
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"crimson\"/><text x=\"%.1f\" y=\"%.1f\" fill=\"crimson\">%@</text>\n",
                          x(p.idleMemoryGBSeconds), y(p.coldStartRate), x(p.idleMemoryGBSeconds) + 7, y(p.coldStartRate) + 4, p.name as NSString)
        }
        return svg + "</svg>\n"
    }
}
