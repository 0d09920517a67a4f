import Docker
import Foundation
import Logging
import ImageStore
import MetricsTestKit
import NIOCore
import Runtime
import Synchronization
import TestSupport
import Testing
import Tuning

/// Counts the containers a real driver starts (it delegates everything).
final class CountingDriver: ContainerDriver {
    let base: any ContainerDriver
    let starts = Mutex(0)
    /// When each stop was asked of the engine.
    let stopsAsked = Mutex<[ContinuousClock.Instant]>([])
    init(_ base: any ContainerDriver) { self.base = base }
    var name: String { base.name }
    func start(_ spec: FunctionSpec) async throws -> Container {
        starts.withLock { $0 += 1 }
        return try await base.start(spec)
    }
    func waitUntilListening(_ c: Container, spec: FunctionSpec, timeout: Duration) async throws { try await base.waitUntilListening(c, spec: spec, timeout: timeout) }
    func stop(_ c: Container, grace: Duration) async throws {
        stopsAsked.withLock { $0.append(.now) }
        try await base.stop(c, grace: grace)
    }
    func kill(_ c: Container) async throws { try await base.kill(c) }
    func remove(_ c: Container) async throws { try await base.remove(c) }
    func state(_ c: Container) async throws -> ContainerState { try await base.state(c) }
    func logs(_ c: Container, lines: Int) async -> [String] { await base.logs(c, lines: lines) }
    func list() async throws -> [Container] { try await base.list() }
    func listOrphans() async throws -> [Container] { try await base.listOrphans() }
}

func invoke(_ scheduler: Scheduler, _ spec: FunctionSpec, _ body: String) async -> InvocationResult {
    await scheduler.invoke(spec, request: FDKRequest(deadline: Date() + 30, body: ByteBuffer(string: body)))
}

/// `count` calls at once; their results in the order they finished.
func concurrently(_ count: Int, _ scheduler: Scheduler, _ spec: FunctionSpec, _ body: String) async -> [InvocationResult] {
    await concurrently(scheduler, spec, bodies: Array(repeating: body, count: count))
}

/// A call per body, all at once; their results in the order they finished.
func concurrently(_ scheduler: Scheduler, _ spec: FunctionSpec, bodies: [String]) async -> [InvocationResult] {
    await withTaskGroup(of: InvocationResult.self) { group in
        for body in bodies { group.addTask { await invoke(scheduler, spec, body) } }
        return await group.reduce(into: []) { $0.append($1) }
    }
}

extension InvocationResult {
    var text: String { var b = body; return b.readString(length: b.readableBytes) ?? "" }
}

extension SchedulerOptions {
    /// The options with room for calls queued behind busy containers while
    /// every suite runs at once on two cores; the tests that are about the
    /// queue-wait bound set their own.
    var forTests: SchedulerOptions {
        var options = self
        options.maxQueueWait = .seconds(120)
        return options
    }
}

/// Waits (bounded) until `condition` holds; returns whether it did.
func eventually(within limit: Duration = .seconds(15), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}

@Suite(.enabled(if: Services.available, Services.skipReason))
struct SchedulerTests {
    func make(_ options: SchedulerOptions = SchedulerOptions(), trace: InvocationTrace? = nil, log: CapturedLog = CapturedLog()) throws -> (Scheduler, CountingDriver) {
        let driver = CountingDriver(try Drivers.make("docker"))
        return (Scheduler(driver: driver, options: options.forTests, trace: trace, logger: Logger(label: "tests") { _ in log }), driver)
    }

    @Test func aBurstIsServedByNoMoreThanTheMaximum() async throws {
        let (scheduler, driver) = try make()
        var function = spec("sleep")
        function.maxContainers = 3
        let results = await concurrently(9, scheduler, function, "300")
        #expect(results.allSatisfy { $0.status == 200 })
        #expect(Set(results.compactMap(\.containerID)).count <= 3)
        #expect(driver.starts.withLock { $0 } <= 3)
        await scheduler.shutdown()
        #expect(try await driver.list().isEmpty)
    }

    @Test func idleContainersAreReusedLastInFirstOut() async throws {
        let (scheduler, _) = try make()
        let function = spec("sleep")
        // Two containers hot first: cold, the two calls below would each wait for a start,
        // and a start slower by more than their 700 ms difference reversed their ends (seen in CI).
        _ = await concurrently(2, scheduler, function, "1")
        let twoHot = await eventually { scheduler.idleContainers(function).count == 2 }
        try #require(twoHot, "two containers started for two concurrent calls")
        // Named by the order they ended (a call can start late when every suite shares two cores).
        let ended = await concurrently(scheduler, function, bodies: ["200", "900"])
        let (first, last) = (ended[0], ended[1])
        #expect(first.containerID != last.containerID)
        #expect(scheduler.idleContainers(function) == [try #require(first.containerID), try #require(last.containerID)])
        let next = await invoke(scheduler, function, "1")
        #expect(next.containerID == last.containerID, "the most recently used container takes the call")
        #expect(!next.cold)
        await scheduler.shutdown()
    }

    @Test func anIdleContainerStopsAtItsIdleTimeout() async throws {
        let (scheduler, driver) = try make()
        var function = spec("hello")
        function.idleTimeout = .seconds(1)
        // The container goes idle between these two instants.
        let called = ContinuousClock.now
        let result = await invoke(scheduler, function, "idle")
        #expect(result.status == 200)
        let idleSince = ContinuousClock.now
        #expect(scheduler.idleContainers(function).count == 1)
        // A control on the same cooperative pool, the way the scheduler goes from its
        // deadline to the engine (a task that sleeps, then a task of its own): how late
        // this process's tasks run (CI saw 1.1 s, while sync suites held both threads)
        // is the machine's delay, not the scheduler's.
        let deadline = idleSince + .seconds(1)
        let control = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            return await Task { ContinuousClock.now }.value
        }
        let stopped = await eventually(within: .seconds(10)) { scheduler.idleContainers(function).isEmpty && !driver.stopsAsked.withLock(\.isEmpty) }
        // When the scheduler asked the engine to stop it: the test's own polling is not the scheduler's delay.
        let firstStop = driver.stopsAsked.withLock(\.first)
        let stoppedAt = try #require(firstStop)
        let machineDelay = max(.zero, await control.value - deadline)
        #expect(stopped && stoppedAt - called >= .seconds(1) && stoppedAt - idleSince < .seconds(2) + machineDelay,
                "stopped \(stoppedAt - idleSince) after the call returned; deadline 1 s; this process's tasks ran \(machineDelay) late")
        #expect(try await eventually { try await driver.list().isEmpty }, "and removed")
        await scheduler.shutdown()
    }

    /// `idle_timeout: auto`: once the hybrid policy has seen a function called
    /// every 7 s (2-s bins here instead of the paper's minutes), it unloads the
    /// container after each call and pre-warms one before the next is due, so
    /// the next call is warm without holding memory in between.
    @Test func anAdaptiveFunctionIsUnloadedAfterACallAndPreWarmedBeforeTheNext() async throws {
        let (scheduler, driver) = try make()
        var function = spec("hello")
        var policy = HybridHistogram()
        policy.binWidth = 2
        policy.range = 120
        function.adaptiveKeepAlive = policy
        function.idleTimeout = .seconds(60)
        for _ in 0..<2 {
            #expect(await invoke(scheduler, function, "learn").status == 200)
            #expect(scheduler.idleContainers(function).count == 1, "not learned yet: the function's own idle timeout keeps it")
            try await Task.sleep(for: .seconds(7))
        }
        #expect(await invoke(scheduler, function, "learned").status == 200)
        let ended = ContinuousClock.now
        #expect(scheduler.hotContainers()["tests/hello", default: 0] == 0, "unloaded right after the call")
        let startsBefore = driver.starts.withLock { $0 }
        let prewarmed = await eventually(within: .seconds(12)) { scheduler.idleContainers(function).count == 1 }
        let after = ContinuousClock.now - ended
        #expect(prewarmed && after > .seconds(4), "pre-warmed \(after) after the call (window: 5.4 s)")
        #expect(driver.starts.withLock { $0 } == startsBefore + 1)
        let next = await invoke(scheduler, function, "on time")
        #expect(next.status == 200 && !next.cold, "the next call finds the pre-warmed container")
        await scheduler.shutdown()
    }

    @Test func memoryPressureEvictsTheLeastRecentlyUsedIdleContainerOfAnotherFunction() async throws {
        let (scheduler, driver) = try make(SchedulerOptions(memoryBudgetMB: 256))
        let a = spec("sleep")
        // Two containers: the second call made once the first one's container is starting, so that it
        // comes while that container starts or serves the first call (made at once, the second could
        // start late, when every suite shares two cores, and find it idle).
        async let long = invoke(scheduler, a, "5000")
        let starting = await eventually { driver.starts.withLock { $0 } == 1 }
        let short = await invoke(scheduler, a, "100")
        let first = await long
        #expect(starting && first.status == 200 && short.status == 200, "\(first.status) \(first.text); \(short.status) \(short.text)")
        #expect(scheduler.hotContainers()["tests/sleep"] == 2, "\(driver.starts.withLock { $0 }) started")
        let other = await invoke(scheduler, spec("hello"), "b")
        #expect(other.status == 200)
        #expect(scheduler.evictions == 1)
        #expect(scheduler.hotContainers()["tests/sleep"] == 1)
        await scheduler.shutdown()
    }

    @Test func pastTheQueueBoundCallsGet503WithRetryAfter() async throws {
        var options = SchedulerOptions()
        options.maxQueuedCalls = 2
        let (scheduler, _) = try make(options)
        var function = spec("sleep")
        function.maxContainers = 1
        let results = await concurrently(3, scheduler, function, "700")
        #expect(results.map(\.status).sorted() == [200, 200, 503])
        let rejected = try #require(results.first { $0.status == 503 })
        #expect(rejected.headers.contains { $0.0 == "Retry-After" && Int($0.1) != nil })
        await scheduler.shutdown()
    }

    @Test func aCallWaitingForItsContainersStartIsNotCutByTheQueueBound() async throws {
        var options = SchedulerOptions()
        options.maxQueueWait = .seconds(1)
        let scheduler = Scheduler(driver: try Drivers.make("docker"), options: options)
        let function = spec("slowstart", startup: .seconds(30), config: ["SLOW_START_MS": "2500"])
        let result = await invoke(scheduler, function, "")
        #expect(result.status == 200, "\(result.text)")
        #expect(result.text == "started slowly\n")
        await scheduler.shutdown()
    }

    @Test func aCallWaitingOnABusyContainerGets503PastTheQueueWait() async throws {
        var options = SchedulerOptions()
        options.maxQueueWait = .seconds(1)
        let scheduler = Scheduler(driver: try Drivers.make("docker"), options: options)
        var function = spec("sleep")
        function.maxContainers = 1
        // One container: the second call waits behind the first's 4 s and is cut at 1 s.
        let results = await concurrently(2, scheduler, function, "4000")
        #expect(results.map(\.status).sorted() == [200, 503])
        let rejected = try #require(results.first { $0.status == 503 })
        #expect(rejected.text.contains("no container became free in 1.0 seconds"), "\(rejected.text)")
        await scheduler.shutdown()
    }

    @Test func aCallPastItsTimeoutIs504AndItsContainerIsKilled() async throws {
        let (scheduler, driver) = try make()
        let function = spec("sleep", timeout: .seconds(1))
        let timedOut = await invoke(scheduler, function, "5000")
        #expect(timedOut.status == 504, "\(timedOut.text)")
        #expect(try await eventually { try await driver.list().isEmpty })
        let next = await invoke(scheduler, function, "10")
        #expect(next.status == 200 && next.cold && next.containerID != timedOut.containerID)
        await scheduler.shutdown()
    }

    /// The log says why each container went, with the last lines it wrote
    /// (removed with it, they were nowhere to be read).
    @Test func aCrashIs502AndTheContainerIsReplaced() async throws {
        let log = CapturedLog()
        let (scheduler, driver) = try make(log: log)
        let function = spec("crash")
        let first = await invoke(scheduler, function, "")
        let second = await invoke(scheduler, function, "")
        #expect(first.status == 502 && second.status == 502)
        #expect(second.cold && first.containerID != second.containerID)
        #expect(driver.starts.withLock { $0 } == 2)
        let reported = await eventually { log.entries.count == 2 }
        let entries = log.entries
        #expect(reported, "\(entries)")
        for (entry, id) in zip(entries.sorted { $0.metadata["container"] ?? "" < $1.metadata["container"] ?? "" },
                               [first.containerID, second.containerID].compactMap { $0 }.sorted()) {
            #expect(entry.level == .warning && entry.message.hasPrefix("a container was removed: a call broke it: error receiving function response"), "\(entry)")
            #expect(entry.metadata == ["function": "tests/crash", "container": id, "output": "crash: exiting mid-call"], "\(entry)")
        }
        await scheduler.shutdown()
    }

    /// A function that outgrows its memory limit is killed by the kernel: the
    /// caller gets 502, and the log says it was for want of memory and names
    /// the limit (it said only that the connection closed).
    @Test func aContainerKilledAtItsMemoryLimitIsReportedSo() async throws {
        let log = CapturedLog()
        let (scheduler, _) = try make(log: log)
        var function = spec("echo")
        function.memoryMB = 64
        let result = await scheduler.invoke(function, request: FDKRequest(deadline: Date() + 30, headers: [("Fn-Http-H-X-Echo-Allocate-MB", "200")],
                                                                          body: ByteBuffer(string: "x")))
        #expect(result.status == 502, "\(result.status) \(result.text)")
        let reported = await eventually { !log.entries.isEmpty }
        #expect(reported && log.entries.allSatisfy {
            $0.message.hasPrefix("a container was removed: a call broke it: ")
                && $0.message.hasSuffix("; the kernel killed it for want of memory: its limit is 64 MB")
        }, "\(log.entries)")
        await scheduler.shutdown()
    }

    /// A container that dies while idle (killed, OOM, dockerd gone) leaves
    /// its pool when its connection ends, not at the next call: the hot count
    /// is right in between, and the next call starts a new container.
    @Test func anIdleContainerThatDiesLeavesItsPoolAtOnce() async throws {
        let (scheduler, driver) = try make()
        let function = spec("hello")
        let first = await invoke(scheduler, function, "before")
        try #require(first.status == 200 && scheduler.idleContainers(function) == [first.containerID!])
        let container = try #require(try await driver.list().first { $0.id == first.containerID })
        try await driver.kill(container)
        #expect(await eventually(within: .seconds(5)) { scheduler.idleContainers(function).isEmpty }, "no call made")
        #expect(scheduler.hotContainers()["tests/hello", default: 0] == 0)
        #expect(try await eventually { try await driver.list().isEmpty }, "and removed")
        let next = await invoke(scheduler, function, "after")
        #expect(next.status == 200 && next.cold && next.containerID != first.containerID, "\(next.status) \(next.text)")
        await scheduler.shutdown()
    }

    @Test func aStartFailureReachesEveryWaitingCallerAndIsBackedOff() async throws {
        var options = SchedulerOptions()
        options.startBackoff = .seconds(20)
        let log = CapturedLog()
        let (scheduler, driver) = try make(options, log: log)
        var function = spec("neverlisten", startup: .seconds(3))  // time to say it is up on a loaded machine
        function.maxContainers = 1
        let results = await concurrently(3, scheduler, function, "")
        #expect(results.allSatisfy { $0.status == 504 && $0.text.contains("neverlisten: up, but not listening") })
        #expect(driver.starts.withLock { $0 } == 1, "one start for all three callers")
        #expect(log.entries.count == 1 && log.entries.allSatisfy {
            $0.message == "a container did not start" && $0.metadata["function"] == "tests/neverlisten"
                && $0.metadata["error"]?.contains("neverlisten: up, but not listening") == true
        }, "the log says it once, with the reason: \(log.entries)")
        let again = await invoke(scheduler, function, "")
        #expect(again.status == 504 && again.text.contains("did not listen"))
        #expect(driver.starts.withLock { $0 } == 1, "backed off: no new start right away")
        await scheduler.shutdown()
    }

    @Test func changedSettingsGetNewContainers() async throws {
        let (scheduler, _) = try make()
        var v1 = spec("echo")
        v1.config = ["VERSION": "1"]
        var v2 = v1
        v2.config = ["VERSION": "2"]
        let a = await invoke(scheduler, v1, "x")
        let b = await invoke(scheduler, v2, "x")
        let c = await invoke(scheduler, v1, "x")
        #expect(a.containerID != b.containerID)
        #expect(a.containerID == c.containerID)
        await scheduler.shutdown()
    }

    /// A retired pool (its function changed or went) keeps no container
    /// idle: the idle one goes at once, the busy one after its call, and a
    /// provisioned one is not started again. A later call with the same
    /// settings makes them current again.
    @Test func aRetiredPoolsContainersGoOnceTheirCallsEnd() async throws {
        let (scheduler, driver) = try make()
        var function = spec("sleep")
        function.functionID = "retired-fn"
        function.idleTimeout = .seconds(3600)
        _ = await concurrently(2, scheduler, function, "1")
        try #require(await eventually { scheduler.idleContainers(function).count == 2 })
        let slow = Task { await invoke(scheduler, function, "2000") }
        try #require(await eventually { scheduler.idleContainers(function).count == 1 }, "the slow call holds one")
        var provisioned = spec("hello")
        provisioned.functionID = "retired-provisioned"
        provisioned.provisioned = 1
        scheduler.provision(provisioned)
        try #require(await eventually(within: .seconds(60)) { scheduler.idleContainers(provisioned).count == 1 })

        scheduler.retire { $0.functionID?.hasPrefix("retired-") == true }
        #expect(scheduler.idleContainers(function).isEmpty && scheduler.idleContainers(provisioned).isEmpty)
        let finished = await slow.value
        #expect(finished.status == 200, "the call in flight finishes")
        #expect(scheduler.idleContainers(function).isEmpty, "its container does not go back to idle")
        #expect(try await eventually { try await driver.list().isEmpty }, "every container of the retired pools is removed")
        let starts = driver.starts.withLock { $0 }
        try await Task.sleep(for: .seconds(1))
        #expect(driver.starts.withLock { $0 } == starts, "no provisioned container is started again")

        let again = await invoke(scheduler, function, "1")
        #expect(again.status == 200 && again.cold)
        #expect(scheduler.idleContainers(function).count == 1, "called again, the settings are current: the container stays hot")
        await scheduler.shutdown()
    }

    /// Two, not one: the launch rule counted starting containers twice, and
    /// a function provisioned with N got one container.
    @Test func provisionedContainersStayHotPastTheIdleTimeout() async throws {
        let (scheduler, _) = try make()
        var function = spec("hello")
        function.provisioned = 2
        function.idleTimeout = .seconds(1)
        scheduler.provision(function)
        #expect(await eventually(within: .seconds(60)) { scheduler.idleContainers(function).count == 2 })
        try await Task.sleep(for: .milliseconds(2500))
        #expect(scheduler.idleContainers(function).count == 2)
        let result = await invoke(scheduler, function, "warm")
        #expect(result.status == 200 && !result.cold)
        await scheduler.shutdown()
    }

    @Test func everyCallIsTraced() async throws {
        let path = Scratch.directory("trace") + "/calls.jsonl"
        let (scheduler, _) = try make(trace: try InvocationTrace(path: path))
        let function = spec("hello")
        _ = await invoke(scheduler, function, "1")
        _ = await invoke(scheduler, function, "2")
        await scheduler.shutdown()
        let entries = try InvocationTrace.read(path)
        #expect(entries.map(\.cold) == [true, false])
        #expect(entries.allSatisfy { $0.app == "tests" && $0.function == "hello" && $0.memoryMB == 128 && $0.status == 200 })
    }

    /// The containers of a killed instance are removed by the next; those of
    /// one still running (an `fnrt run` beside `fnrt serve` on the same
    /// home, or a second serve) are not: its call goes on.
    @Test func orphansOfAKilledInstanceAreRemovedAtStartAndALiveOnesAreNot() async throws {
        // A home of its own: removing orphans must not touch other tests' containers.
        let home = FnrtHome(path: Scratch.directory("orphans"))
        let store = try ContentStore(home: home)
        try ImagePacker.pack(binary: "\(FunctionImages.binaries)/sleep", into: store, as: "fns/sleep:test")
        // A `fnrt run` killed with SIGKILL mid-call cannot remove its container.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.fnrt)
        process.arguments = ["run", "--data", "20000", "fns/sleep:test"]
        process.environment = ["FNRT_HOME": home.path, "PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        let errors = home.path + "/run.err"
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        try process.run()
        let docker = try DockerClient()
        let label = "fnrt.home=\(home.path)"
        // Its first run may load the image into Docker while every suite runs at once: a generous bound.
        #expect(try await eventually(within: .seconds(90)) { try await !docker.listContainers(labels: [label]).isEmpty })
        let scheduler = Scheduler(driver: try DockerDriver(docker: docker, store: store, home: home, instance: RuntimeInstance.name("serve")))
        #expect(try await scheduler.removeOrphans() == 0, "the container of a running fnrt run is not an orphan")
        #expect(try await docker.listContainers(labels: [label]).count == 1)
        #expect(process.isRunning, "fnrt run ended early: \((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(try await !docker.listContainers(labels: [label]).isEmpty, "left behind")
        #expect(try await scheduler.removeOrphans() == 1)
        #expect(try await docker.listContainers(labels: [label]).isEmpty)
    }
}

@Suite(.enabled(if: Services.available, Services.skipReason))
struct SchedulerMetricsTests {
    @Test func callsStartsAndHotContainersAreMeasured() async throws {
        let metrics = TestMetrics()
        let scheduler = Scheduler(driver: try Drivers.make("docker"), options: SchedulerOptions().forTests, metrics: metrics)
        let hello = spec("hello")
        #expect(await invoke(scheduler, hello, "1").status == 200)
        #expect(await invoke(scheduler, hello, "2").status == 200)
        #expect(await invoke(scheduler, spec("fail"), "").status == 502)
        func calls(_ function: String, _ outcome: String, _ start: String) -> Int64 {
            metrics.counterTotal(label: "fnrt_calls_total", dimensions: [("function", function), ("outcome", outcome), ("start", start)])
        }
        #expect(calls("tests/hello", "ok", "cold") == 1)
        #expect(calls("tests/hello", "ok", "warm") == 1)
        #expect(calls("tests/fail", "function_error", "cold") == 1)
        #expect(try metrics.expectTimer("fnrt_startup_seconds", [("function", "tests/hello")]).values.count == 1)
        #expect(try metrics.expectTimer("fnrt_call_seconds", [("function", "tests/hello")]).values.count == 2)
        #expect(try metrics.expectTimer("fnrt_queue_wait_seconds", [("function", "tests/hello")]).values.count == 2)
        #expect(try metrics.expectGauge("fnrt_hot_containers", [("function", "tests/hello")]).lastValue == 1)
        await scheduler.shutdown()
    }

    /// Changed settings make a second pool of the same function: its gauge
    /// counts the containers of both, and only those still hot.
    @Test func theHotGaugeCountsEveryPoolOfAFunction() async throws {
        let metrics = TestMetrics()
        let scheduler = Scheduler(driver: try Drivers.make("docker"), options: SchedulerOptions().forTests, metrics: metrics)
        var old = spec("sleep", timeout: .seconds(90))
        old.idleTimeout = .seconds(2)
        var new = old
        new.memoryMB = 64
        new.idleTimeout = .seconds(600)
        func hot() -> Double { (try? metrics.expectGauge("fnrt_hot_containers", [("function", "tests/sleep")]).lastValue) ?? -1 }
        // The old settings' container, started first, then held busy (40 s) while the new settings get theirs.
        #expect(await invoke(scheduler, old, "10").status == 200)
        let long = Task { [old] in await invoke(scheduler, old, "40000") }
        #expect(await eventually(within: .seconds(60)) { scheduler.idleContainers(old).isEmpty && hot() == 1 }, "\(hot())")
        #expect(await invoke(scheduler, new, "10").status == 200)
        #expect(hot() == 2, "the old container is still busy")
        // Then the old one idles out; a warm call to the new one leaves the count right.
        #expect(await long.value.status == 200)
        #expect(await eventually(within: .seconds(30)) { scheduler.idleContainers(old).isEmpty && hot() == 1 }, "\(hot())")
        #expect(await invoke(scheduler, new, "10").status == 200)
        #expect(hot() == 1)
        await scheduler.shutdown()
    }
}

struct RuntimeInstanceTests {
    /// Each instance has a name of its own, even in one process (servers in
    /// a test, an embedding): a shutdown removes its instance's containers.
    @Test func namesAreUniqueAndAliveWhileTheirProcessRuns() throws {
        let one = RuntimeInstance.name("serve"), two = RuntimeInstance.name("serve")
        #expect(one != two)
        #expect(RuntimeInstance.isAlive(one) && RuntimeInstance.isAlive(two))
        #expect(one.hasPrefix("serve-\(getpid())-"))
    }

    @Test(arguments: [
        "serve-\(getpid())-1-abc",            // this process's ID, another start time: a process that had the ID before
        "run-999999999-1-abc",                // no such process
        "run-\(getpid())",                    // an older fnrt's name
        "test-1A2B3C4D", "", "serve",         // not names of this form
    ])
    func otherNamesAreNotAlive(name: String) {
        #expect(!RuntimeInstance.isAlive(name))
    }
}

/// What a logger was given, for the tests to read.
final class CapturedLog: LogHandler, @unchecked Sendable {
    struct Entry: CustomStringConvertible {
        var level: Logger.Level, message: String, metadata: [String: String]
        var description: String { "\(level) \(message) \(metadata)" }
    }
    private let lock = NSLock()
    private var captured: [Entry] = []
    var entries: [Entry] { lock.withLock { captured } }
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let entry = Entry(level: event.level, message: "\(event.message)", metadata: (event.metadata ?? [:]).mapValues { "\($0)" })
        lock.withLock { captured.append(entry) }
    }
}
