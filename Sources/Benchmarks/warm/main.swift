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
var spec = FunctionSpec(app: "bench", name: "hello", image: "bench/hello:1")
spec.idleTimeout = .seconds(600)

func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }

func measure(_ label: String, _ call: () async -> Int) async -> (p50: Double, p99: Double, throughput: Double) {
    for _ in 0..<100 { _ = await call() }  // warm-up
    var latencies: [Double] = []
    latencies.reserveCapacity(calls)
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<calls {
        let t0 = clock.now
        let status = await call()
        guard status == 200 else { fatalError("\(label): status \(status)") }
        let d = clock.now - t0
        latencies.append(Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12)
    }
    let total = clock.now - start
    let seconds = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
    latencies.sort()
    return (percentile(latencies, 0.5), percentile(latencies, 0.99), Double(calls) / seconds)
}

// Direct: a container of its own, one connection, the same request.
let container = try await driver.start(spec)
try await driver.waitUntilListening(container, spec: spec, timeout: .seconds(30))
let connection = try await FDKConnection.connect(socketPath: container.socketPath)
let direct = await measure("direct") {
    await connection.call(FDKRequest(deadline: Date() + 30, body: ByteBuffer(string: "bench")), timeout: .seconds(30)).callerStatus
}
connection.close()
try await driver.remove(container)

let scheduler = Scheduler(driver: driver)
let scheduled = await measure("scheduler") {
    await scheduler.invoke(spec, request: FDKRequest(deadline: Date() + 30, body: ByteBuffer(string: "bench"))).status
}
await scheduler.shutdown()
try? FileManager.default.removeItem(atPath: home.path)

func row(_ name: String, _ r: (p50: Double, p99: Double, throughput: Double)) -> String {
    name.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "p50 %7.1f us  p99 %7.1f us  %8.0f calls/s", r.p50, r.p99, r.throughput)
}
print("\(calls) sequential calls to one hot hello container (\(driver.name) driver)")
print(row("direct (FDK client)", direct))
print(row("Scheduler.invoke", scheduled))
print(String(format: "ratios: p50 %.2fx (target <= 1.15), p99 %.2fx, throughput %.2fx (target >= 0.90)",
             scheduled.p50 / direct.p50, scheduled.p99 / direct.p99, scheduled.throughput / direct.throughput))
