import Foundation
import TestSupport
import Testing
import Tuning

/// The paper's result on a trace that follows its published distributions:
/// the hybrid policy lies below the curve of fixed timeouts (10 min to 4 h),
/// on the paper's axes (Fig. 15): 75th-percentile app cold-start rate against
/// idle memory.
@Suite struct PaperResultTests {
    @Test func hybridNeedsClearlyLessIdleMemoryThanFixedTimeoutsForAsFewColdStarts() throws {
        let directory = Scratch.path("paper")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try TraceGenerator(functions: 1500, seed: 42).write(to: directory)
        var tuner = Tuner(policies: try ["10m", "20m", "30m", "1h", "2h", "4h", "hybrid"].map(parsePolicy))
        tuner.candidates = []
        let report = try tuner.run(.azure(invocations: files.invocations, memory: files.memory, durations: nil))
        let fixed = report.policies.filter { $0.name.hasPrefix("fixed:") }
        let hybrid = try #require(report.policies.first { $0.name == "hybrid" })
        // The fixed curve: longer timeouts, fewer cold starts, more memory.
        #expect(zip(fixed, fixed.dropFirst()).allSatisfy { $0.appColdStartRateP75 >= $1.appColdStartRateP75 && $0.idleMemoryGBSeconds <= $1.idleMemoryGBSeconds })
        // The memory the fixed curve needs for the hybrid's cold-start rate (linear between its points).
        let p = hybrid.appColdStartRateP75
        let pair = try #require(zip(fixed, fixed.dropFirst()).first { $0.appColdStartRateP75 >= p && $1.appColdStartRateP75 <= p },
                                "the hybrid's cold-start rate \(p) is within the fixed curve's range")
        let (a, b) = pair
        let share = a.appColdStartRateP75 == b.appColdStartRateP75 ? 0 : (a.appColdStartRateP75 - p) / (a.appColdStartRateP75 - b.appColdStartRateP75)
        let fixedMemory = a.idleMemoryGBSeconds + share * (b.idleMemoryGBSeconds - a.idleMemoryGBSeconds)
        #expect(hybrid.idleMemoryGBSeconds < 0.9 * fixedMemory,
                "hybrid \(hybrid.idleMemoryGBSeconds) GB-s at p75 \(p); fixed timeouts need \(fixedMemory)")
    }

    @Test func theGeneratorIsSeededAndFollowsTheFrequencyBands() throws {
        let one = Scratch.path("gen"), two = one + "-b"
        defer { try? FileManager.default.removeItem(atPath: one); try? FileManager.default.removeItem(atPath: two) }
        let a = try TraceGenerator(functions: 3000, seed: 9).write(to: one)
        let b = try TraceGenerator(functions: 3000, seed: 9).write(to: two)
        #expect(FileManager.default.contents(atPath: a.invocations) == FileManager.default.contents(atPath: b.invocations))
        var trace = try AzureTrace(path: a.invocations)
        var rare = 0, frequent = 0, timers = 0, total = 0
        try trace.forEachFunction { function in
            total += 1
            if function.invocations <= 24 { rare += 1 }            // at most once an hour on average
            if function.invocations > 1440 { frequent += 1 }        // more than once a minute
        }
        var lines = try String(contentsOfFile: a.invocations, encoding: .utf8).split(separator: "\n").dropFirst()
        timers = lines.filter { $0.split(separator: ",")[3] == "timer" }.count
        lines = []
        #expect(total == 3000)
        // The paper: 45% at most hourly, 19% more than once a minute, ~16% timers (generous bounds for a sample).
        #expect((0.35...0.58).contains(Double(rare) / Double(total)), "rare \(rare)")
        #expect((0.10...0.28).contains(Double(frequent) / Double(total)), "frequent \(frequent)")
        #expect((0.12...0.20).contains(Double(timers) / Double(total)), "timers \(timers)")
    }
}
