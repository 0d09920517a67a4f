import Foundation
import TestSupport
import Testing
import Tuning

/// Hand-computed traces: every figure below is worked out in the comments.
@Suite struct SimulatorTests {
    // Calls at 0, 100 and 700 s, instant, 1 GB, a 1,000 s trace.
    let spread = FunctionTrace(key: FunctionKey(app: "a", function: "f"),
                               arrivals: [Arrival(time: 0), Arrival(time: 100), Arrival(time: 700)], memoryMB: 1024)

    @Test(arguments: [
        // 300 s: gap 100 warm (idle 100), gap 600 cold (idle 300), after the last 300 -> 2 cold, 700 GB-s.
        ("fixed:5m", 2, 700.0),
        // 30 s: both gaps cold (idle 30 each), 30 after the last -> 3 cold, 90 GB-s.
        ("fixed:30s", 3, 90.0),
        // Never unloaded: 100 + 600 + 300 -> 1 cold, 1,000 GB-s.
        ("no-unloading", 1, 1000.0),
        // Too few idle times for a histogram: the 4-hour standard keep-alive -> as never unloading here.
        ("hybrid", 1, 1000.0),
    ])
    func spreadCalls(policy: String, cold: Int, idle: Double) throws {
        let outcome = Simulator.simulate(spread, policy: try parsePolicy(policy), horizon: 1000)
        #expect(outcome.invocations == 3)
        #expect(outcome.coldStarts == cold)
        #expect(abs(outcome.idleMemoryGBSeconds - idle) < 1e-9)
    }

    @Test func idleTimeCountsFromTheEndOfTheCall() throws {
        // Calls at 0 and 50 s running 10 s each: the gap is 40 s, past a 30 s timeout -> cold;
        // idle 30, and after the last (ends at 60, horizon 100) 30 more.
        let trace = FunctionTrace(key: FunctionKey(app: "a", function: "f"),
                                  arrivals: [Arrival(time: 0, duration: 10), Arrival(time: 50, duration: 10)], memoryMB: 1024)
        let outcome = Simulator.simulate(trace, policy: FixedKeepAlive(seconds: 30), horizon: 100)
        #expect(outcome.coldStarts == 2)
        #expect(abs(outcome.idleMemoryGBSeconds - 60) < 1e-9)
    }

    @Test func hybridLearnsAPeriodicFunction() throws {
        // A timer every 10 minutes, 21 calls, 1 GB, horizon 13,000 s.
        let trace = FunctionTrace(key: FunctionKey(app: "a", function: "timer"),
                                  arrivals: (0...20).map { Arrival(time: Double($0) * 600) }, memoryMB: 1024)
        // Fixed 10 m: every gap (600) warm and fully idle: 20 x 600, then 600 after the last -> 12,600.
        let fixed = Simulator.simulate(trace, policy: try parsePolicy("fixed:10m"), horizon: 13000)
        #expect(fixed.coldStarts == 1)
        #expect(abs(fixed.idleMemoryGBSeconds - 12600) < 1e-9)
        // Hybrid: two idle times make a histogram (one bin of 240 holding both: CV 15.5 >= 2, representative).
        // Head (5th pct) is bin 10's lower edge, 600 s, less 10% -> pre-warm 540 s; tail (99th) its upper
        // edge, 660 s, plus 10% -> keep until 726 s. Gaps 1-2 under the standard 4 h keep-alive: 2 x 600
        // idle; gaps 3-20: unloaded, back at 540, called at 600 -> warm, 18 x 60 idle; after the last:
        // 726 - 540 = 186.
        let hybrid = Simulator.simulate(trace, policy: HybridHistogram(), horizon: 13000)
        #expect(hybrid.coldStarts == 1)
        #expect(abs(hybrid.idleMemoryGBSeconds - (1200 + 1080 + 186)) < 1e-6)
        // Requiring ten idle times first, gaps 1-10 keep the container all along: 6,000 + 600 + 186.
        var patient = HybridHistogram()
        patient.minimumObservations = 10
        #expect(abs(Simulator.simulate(trace, policy: patient, horizon: 13000).idleMemoryGBSeconds - (6000 + 600 + 186)) < 1e-6)
    }

    @Test func totalsAndTheAppPercentile() {
        var totals = PolicyTotals(name: "p")
        for (i, rate) in [(1, 1), (2, 2), (3, 1), (4, 4)].enumerated() {
            totals.add(FunctionKey(app: "app\(i)", function: "f"), FunctionOutcome(invocations: 4, coldStarts: rate.1, idleMemoryGBSeconds: 1))
        }
        let report = totals.report(seconds: 0)
        #expect(report.invocations == 16 && report.coldStarts == 8 && report.functions == 4)
        #expect(report.coldStartRate == 0.5)
        #expect(report.idleMemoryGBSeconds == 4)
        // Per-app rates 0.25, 0.5, 0.25, 1.0 -> sorted 0.25, 0.25, 0.5, 1.0; the 75th percentile is 0.5.
        #expect(report.appColdStartRateP75 == 0.5)
    }

    @Test(arguments: ["fixed:10m", "10m", "fixed:30s", "2h", "hybrid", "no-unloading", "fn"])
    func parsesPolicies(text: String) throws {
        _ = try parsePolicy(text)
    }

    @Test(arguments: ["fixed:", "fixed:10", "fixed:-5m", "sometimes"])
    func refusesBadPolicies(text: String) {
        #expect(throws: TraceError.self) { try parsePolicy(text) }
    }
}

@Suite struct TraceFormatTests {
    let directory = Scratch.path("tuning")

    func write(_ name: String, _ text: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func azureRow(_ owner: String, _ app: String, _ function: String, counts: [Int: Int]) -> String {
        ([owner, app, function, "http"] + (1...1440).map { "\(counts[$0] ?? 0)" }).joined(separator: ",")
    }

    var header: String { (["HashOwner", "HashApp", "HashFunction", "Trigger"] + (1...1440).map(String.init)).joined(separator: ",") }

    @Test func readsTheAzureFormatWithMemoryAndDurations() throws {
        let invocations = try write("invocations.csv", [header, azureRow("o", "a", "f", counts: [1: 2, 3: 1]), azureRow("o", "a", "g", counts: [1440: 5])].joined(separator: "\n") + "\n")
        let memory = try write("memory.csv", "HashOwner,HashApp,SampleCount,AverageAllocatedMb\no,a,10,256\n")
        let durations = try write("durations.csv", "HashOwner,HashApp,HashFunction,Average,Count\no,a,f,1500,3\n")
        var trace = try AzureTrace(path: invocations, memoryPath: memory, durationsPath: durations)
        var seen: [FunctionTrace] = []
        try trace.forEachFunction { seen.append($0) }
        #expect(seen.count == 2)
        #expect(seen[0].arrivals == [Arrival(time: 0, count: 2, duration: 1.5), Arrival(time: 120, count: 1, duration: 1.5)])
        #expect(seen[0].memoryMB == 256)
        #expect(seen[1].arrivals == [Arrival(time: 1439 * 60, count: 5, duration: 0)])
        #expect(seen[1].invocations == 5)
    }

    @Test func malformedRowsAreRefusedOrSkippedWithTheirLineNumber() throws {
        let path = try write("bad.csv", [header, azureRow("o", "a", "f", counts: [1: 1]), "o,a,g,http,1,x", azureRow("o", "a", "h", counts: [2: 1])].joined(separator: "\n"))
        var strict = try AzureTrace(path: path)
        #expect(throws: TraceError(file: path, line: 3, reason: "6 fields where the header has 1444")) {
            try strict.forEachFunction { _ in }
        }
        var lenient = try AzureTrace(path: path, malformed: .skip)
        var keys: [String] = []
        try lenient.forEachFunction { keys.append($0.key.function) }
        #expect(keys == ["f", "h"])
        #expect(lenient.skipped.map(\.line) == [3])

        let badCount = try write("count.csv", [header, azureRow("o", "a", "f", counts: [:]).replacingOccurrences(of: ",0,0,0", with: ",0,-1,0", options: [], range: nil)].joined(separator: "\n"))
        var refusing = try AzureTrace(path: badCount)
        #expect { try refusing.forEachFunction { _ in } } throws: { "\($0)".contains(":2: minute") && "\($0)".contains("'-1' is not a count") }
    }

    /// The file the scheduler rotated away is read first; a trace's format
    /// is told by its first character.
    @Test func readsTheRotatedFileToo() throws {
        let line = { (time: Int) in #"{"time":\#(time),"app":"acme","function":"f","cold":false,"waitMS":0,"durationMS":1000,"memoryMB":128,"status":200}"# }
        let path = try write("trace.jsonl", line(1020))
        _ = try write("trace.jsonl.1", [line(1000), line(1010)].joined(separator: "\n"))
        #expect(FnrtTrace.files(path) == [path + ".1", path])
        let (functions, horizon, _) = try FnrtTrace.read(files: FnrtTrace.files(path))
        #expect(functions.first?.arrivals.map(\.time) == [0, 10, 20])
        #expect(horizon == 21)
        guard case .fnrt = TraceSource.detecting(path, memory: nil, durations: nil) else { Issue.record("JSON Lines taken for CSV"); return }
        let csv = try write("invocations.csv", "HashOwner,HashApp,HashFunction,Trigger,1\n")
        guard case .azure = TraceSource.detecting(csv, memory: nil, durations: nil) else { Issue.record("CSV taken for JSON Lines"); return }
    }

    @Test func readsFnrtsOwnTrace() throws {
        let lines = [
            #"{"time":1000,"app":"acme","function":"f","cold":true,"waitMS":100,"durationMS":2000,"memoryMB":256,"status":200}"#,
            #"{"time":1010,"app":"acme","function":"f","cold":false,"waitMS":0,"durationMS":500,"memoryMB":256,"status":200}"#,
            #"{"time":1005,"app":"acme","function":"g","cold":true,"waitMS":100,"durationMS":1000,"memoryMB":128,"status":200}"#,
            "garbage",
        ]
        let path = try write("calls.jsonl", lines.joined(separator: "\n"))
        #expect { try FnrtTrace.read(path) } throws: { "\($0)".hasSuffix(":4: not an invocation record (time, app, function, durationMS, memoryMB)") }
        let (functions, horizon, skipped) = try FnrtTrace.read(path, malformed: .skip)
        #expect(skipped.map(\.line) == [4])
        #expect(functions.map(\.key.function) == ["f", "g"])
        #expect(functions[0].arrivals == [Arrival(time: 0, duration: 2), Arrival(time: 10, duration: 0.5)])
        #expect(functions[0].memoryMB == 256)
        #expect(horizon == 10.5)
    }
}
