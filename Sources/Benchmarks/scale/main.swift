import Docker
import Foundation
import ImageStore
import NIOCore
import Runtime

// Scale benchmark: per-call cost of Scheduler.invoke with one function hot,
// against 1,000 registered functions of which 200 are hot, calls spread
// across those 200. Target: within 10% of the one-function case.
// usage: [ROUNDS=3] fnrt-bench-scale HELLO_BINARY [FUNCTIONS] [HOT] [CALLS] [oci|docker]

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: fnrt-bench-scale HELLO_BINARY [FUNCTIONS] [HOT] [CALLS] [oci|docker]\n".utf8))
    exit(2)
}
func argument(_ index: Int, _ fallback: Int) -> Int { arguments.count > index ? Int(arguments[index]) ?? fallback : fallback }
let functions = argument(2, 1000), hot = argument(3, 200), calls = argument(4, 4000)
let driverName = arguments.count > 5 ? arguments[5] : "oci"
let home = FnrtHome(path: NSTemporaryDirectory() + "fnrt-bench-scale-\(getpid())")
let store = try ContentStore(home: home)
try ImagePacker.pack(binary: arguments[1], into: store, as: "bench/hello:1")
let driver: any ContainerDriver = driverName == "docker"
    ? try DockerDriver(docker: try DockerClient(), store: store, home: home, instance: "bench-\(getpid())")
    : try OCIDriver(store: store, home: home, instance: "bench-\(getpid())")

func spec(_ i: Int) -> FunctionSpec {
    var spec = FunctionSpec(app: "scale", name: "fn-\(i)", image: "bench/hello:1")
    spec.memoryMB = 64
    spec.idleTimeout = .seconds(3600)
    spec.config = ["INDEX": "\(i)"]
    return spec
}

/// Made once, as callers hold their functions' specs (the gateway's resolver
/// caches them): making one per call (a map and strings) is the caller's
/// cost, not the scheduler's, and was measured with it.
let specs = (0..<functions).map(spec)
let request = FDKRequest(deadline: Date() + 60, body: ByteBuffer(string: "scale"))

/// Per call, in microseconds: the whole invoke, and the scheduler's own part
/// (the invoke less the time in the function call), each sorted.
func measure(_ scheduler: Scheduler, _ pick: (Int) -> FunctionSpec) async -> (total: [Double], scheduling: [Double]) {
    var latencies: [Double] = []
    var scheduling: [Double] = []
    let clock = ContinuousClock()
    for i in 0..<calls {
        let t0 = clock.now
        let result = await scheduler.invoke(pick(i), request: request)
        let d = clock.now - t0
        guard result.status == 200, !result.cold else { fatalError("call \(i): \(result.status), cold \(result.cold)") }
        latencies.append(micro(d))
        scheduling.append(micro(d - result.callDuration))
    }
    return (latencies.sorted(), scheduling.sorted())
}

func micro(_ d: Duration) -> Double { Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12 }

func summary(_ sorted: [Double]) -> (p50: Double, mean: Double) {
    (sorted[sorted.count / 2], sorted.reduce(0, +) / Double(sorted.count))
}

let options = {
    var options = SchedulerOptions(memoryBudgetMB: 1 << 20)
    options.maxQueuedCalls = 10_000
    return options
}()
let rounds = max(1, Int(ProcessInfo.processInfo.environment["ROUNDS"] ?? "") ?? 3)

/// One round: a new scheduler with one function hot, measured; then 1,000
/// registered and 200 hot, measured; then every container removed. Rounds
/// alternate the two cases, so that each round's ratio compares runs
/// seconds apart on this shared machine, whose speed moves minute to minute.
func round(_ number: Int) async -> (one: (p50: Double, mean: Double), many: (p50: Double, mean: Double), ratio: Double) {
    let scheduler = Scheduler(driver: driver, options: options)
    // One function hot.
    _ = await scheduler.invoke(specs[0], request: request)
    for _ in 0..<200 { _ = await scheduler.invoke(specs[0], request: request) }
    let oneRun = await measure(scheduler) { _ in specs[0] }
    let one = summary(oneRun.total), oneScheduling = summary(oneRun.scheduling)

    // 1,000 registered, 200 hot: start one container for each of the first 200.
    for i in 0..<functions { scheduler.provision(specs[i]) }
    let started = ContinuousClock.now
    await withTaskGroup(of: Void.self) { group in
        for batch in stride(from: 0, to: hot, by: 8) {
            for i in batch..<min(hot, batch + 8) { group.addTask { _ = await scheduler.invoke(specs[i], request: request) } }
            await group.waitForAll()
        }
    }
    let warmed = ContinuousClock.now - started
    var generator = SystemRandomNumberGenerator()
    let order = (0..<calls).map { _ in Int.random(in: 0..<hot, using: &generator) }
    for i in 0..<hot { _ = await scheduler.invoke(specs[i], request: request) }
    let manyRun = await measure(scheduler) { specs[order[$0]] }
    let many = summary(manyRun.total), manyScheduling = summary(manyRun.scheduling)
    let counts = scheduler.hotContainers()
    await scheduler.shutdown()

    print("round \(number): \(calls) sequential calls per case, \(driver.name) driver; \(hot) containers started in \(warmed); \(counts.values.reduce(0, +)) hot at the end")
    print(String(format: "  1 function hot:          invoke p50 %7.1f us; scheduling p50 %6.1f us, mean %6.1f us",
                 one.p50, oneScheduling.p50, oneScheduling.mean))
    print(String(format: "  %d functions, %d hot: invoke p50 %7.1f us; scheduling p50 %6.1f us, mean %6.1f us",
                 functions, hot, many.p50, manyScheduling.p50, manyScheduling.mean))
    let ratio = manyScheduling.p50 / oneScheduling.p50
    print(String(format: "  scheduling cost ratio: p50 %.2fx, mean %.2fx; whole invoke p50 %.2fx (the functions' own side included)",
                 ratio, manyScheduling.mean / oneScheduling.mean, many.p50 / one.p50))
    return (oneScheduling, manyScheduling, ratio)
}

var results: [(one: (p50: Double, mean: Double), many: (p50: Double, mean: Double), ratio: Double)] = []
for number in 1...rounds { results.append(await round(number)) }
try? FileManager.default.removeItem(atPath: home.path)
let ratios = results.map(\.ratio).sorted()
print(String(format: "scheduling cost ratio, median of %d rounds: p50 %.2fx (rounds %@) (target <= 1.10)",
             rounds, ratios[ratios.count / 2], results.map { String(format: "%.2fx", $0.ratio) }.joined(separator: ", ")))
