import Docker
import Foundation
import ImageStore
import NIOCore
import Runtime

// Warm-call benchmark: the same calls to one hot `hello` container made
// through Scheduler.invoke and directly over a container's Unix socket with
// the FDK client (its own container, since an FDK serves one connection).
// usage: fnrt-bench-warm HELLO_BINARY [CALLS] [DRIVER]

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: fnrt-bench-warm HELLO_BINARY [CALLS] [docker|oci]\n".utf8))
    exit(2)
}
let calls = arguments.count > 2 ? Int(arguments[2]) ?? 2000 : 2000
let driverName = arguments.count > 3 ? arguments[3] : "docker"
let home = FnrtHome(path: NSTemporaryDirectory() + "fnrt-bench-warm-\(getpid())")
let store = try ContentStore(home: home)
try ImagePacker.pack(binary: arguments[1], into: store, as: "bench/hello:1")
let driver: any ContainerDriver = driverName == "oci"
    ? try OCIDriver(store: store, home: home, instance: "bench-\(getpid())")
    : try DockerDriver(docker: try DockerClient(), store: store, home: home, instance: "bench-\(getpid())")
// A `let`: reading a top-level `var` from the calls would hop to the main actor each time.
let spec: FunctionSpec = {
    var spec = FunctionSpec(app: "bench", name: "hello", image: "bench/hello:1")
    spec.idleTimeout = .seconds(600)
    return spec
}()

func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }

/// Latencies (µs) and the time spent, of `count` sequential calls.
func measure(_ label: String, _ count: Int, _ call: () async -> Int) async -> (latencies: [Double], seconds: Double) {
    var latencies: [Double] = []
    latencies.reserveCapacity(count)
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<count {
        let t0 = clock.now
        let status = await call()
        guard status == 200 else { fatalError("\(label): status \(status)") }
        let d = clock.now - t0
        latencies.append(Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12)
    }
    let total = clock.now - start
    return (latencies, Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18)
}

// Two hot containers of the same image: one called directly, one through
// the scheduler, measured in alternating rounds so that drift on a shared
// machine (the other processes, CPU frequency) falls on both alike.
let container = try await driver.start(spec)
try await driver.waitUntilListening(container, spec: spec, timeout: .seconds(30))
let connection = try await FDKConnection.connect(socketPath: container.socketPath)
let scheduler = Scheduler(driver: driver)
func direct() async -> Int {
    await connection.call(FDKRequest(deadline: Date() + 30, body: ByteBuffer(string: "bench")), timeout: .seconds(30)).callerStatus
}
func scheduled() async -> Int {
    await scheduler.invoke(spec, request: FDKRequest(deadline: Date() + 30, body: ByteBuffer(string: "bench"))).status
}
_ = await measure("direct", 100, direct)  // warm-up
_ = await measure("scheduler", 100, scheduled)
let rounds = 10
var directRuns: [(latencies: [Double], seconds: Double)] = [], scheduledRuns: [(latencies: [Double], seconds: Double)] = []
for _ in 0..<rounds {
    directRuns.append(await measure("direct", calls / rounds, direct))
    scheduledRuns.append(await measure("scheduler", calls / rounds, scheduled))
}
connection.close()
try await driver.remove(container)
await scheduler.shutdown()
try? FileManager.default.removeItem(atPath: home.path)

func summary(_ runs: [(latencies: [Double], seconds: Double)]) -> (p50: Double, p99: Double, throughput: Double) {
    let sorted = runs.flatMap(\.latencies).sorted()
    return (percentile(sorted, 0.5), percentile(sorted, 0.99), Double(sorted.count) / runs.map(\.seconds).reduce(0, +))
}
let directSummary = summary(directRuns), scheduledSummary = summary(scheduledRuns)

func row(_ name: String, _ r: (p50: Double, p99: Double, throughput: Double)) -> String {
    name.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "p50 %7.1f us  p99 %7.1f us  %8.0f calls/s", r.p50, r.p99, r.throughput)
}
print("\(calls) sequential calls each way to a hot hello container (\(driver.name) driver), in \(rounds) alternating rounds")
print(row("direct (FDK client)", directSummary))
print(row("Scheduler.invoke", scheduledSummary))
print(String(format: "ratios: p50 %.2fx (target <= 1.15), p99 %.2fx, throughput %.2fx (target >= 0.90)",
             scheduledSummary.p50 / directSummary.p50, scheduledSummary.p99 / directSummary.p99, scheduledSummary.throughput / directSummary.throughput))
