import Foundation
import Runtime
import TestSupport
import Testing
import Tuning

/// The scheduler's invocation trace: lines made by hand and written in
/// batches, read back by `fnrt tune` and by `InvocationTrace.read`.
@Suite struct InvocationTraceTests {
    let directory = Scratch.directory("trace")

    func entry(_ app: String, _ function: String, time: Double = 1_700_000_000.25) -> InvocationTrace.Entry {
        InvocationTrace.Entry(time: time, app: app, function: function, cold: true, waitMS: 12.5, durationMS: 1e-3, memoryMB: 256, status: 502)
    }

    @Test(arguments: [("shop", "cart"), (#"a "quoted" app"#, #"back\slash"#), ("line\nbreak\t", "ünïcødé ✓"), ("\u{01}", "")])
    func entriesReadBackAsRecordedWhateverTheNames(app: String, function: String) throws {
        let path = "\(directory)/\(UUID().uuidString).jsonl"
        let trace = try InvocationTrace(path: path)
        trace.record(entry(app, function))
        trace.record(entry("other", "f", time: 1_700_000_001))
        trace.flush()
        let read = try InvocationTrace.read(path)
        try #require(read.count == 2)
        #expect(read[0].app == app && read[0].function == function && read[0].time == 1_700_000_000.25)
        #expect(read[0].cold && read[0].waitMS == 12.5 && read[0].durationMS == 1e-3 && read[0].memoryMB == 256 && read[0].status == 502)
        let tuned = try FnrtTrace.read(path)
        #expect(Set(tuned.functions.map { "\($0.key.app)/\($0.key.function)" }) == ["\(app)/\(function)", "other/f"])
    }

    /// A batch that would take the file past `maxBytes` goes to a new file,
    /// the old one to `<path>.1`, which `fnrt tune` reads first.
    @Test func aBatchThatWouldPassTheLimitRotatesTheFile() throws {
        let path = "\(directory)/rotated.jsonl"
        let trace = try InvocationTrace(path: path, maxBytes: 4096)
        for second in 0..<40 { trace.record(entry("shop", "cart", time: Double(second))) }
        trace.flush()
        for second in 40..<80 { trace.record(entry("shop", "cart", time: Double(second))) }
        trace.flush()
        #expect(try InvocationTrace.read(path + ".1").map(\.time) == (0..<40).map(Double.init))
        #expect(try InvocationTrace.read(path).map(\.time) == (40..<80).map(Double.init))
        #expect(try FnrtTrace.read(files: FnrtTrace.files(path)).functions.first?.arrivals.count == 80)
    }

    /// Without a flush, an entry reaches the file within the batch interval
    /// (100 ms; asked here for up to 10 s).
    @Test func anEntryReachesTheFileWithoutAFlush() async throws {
        let path = "\(directory)/unflushed.jsonl"
        let trace = try InvocationTrace(path: path)
        trace.record(entry("shop", "cart"))
        #expect(await eventually(within: .seconds(10)) { (try? InvocationTrace.read(path).count) == 1 })
        withExtendedLifetime(trace) {}
    }
}
