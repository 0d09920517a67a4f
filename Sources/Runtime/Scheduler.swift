import CoreMetrics
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Limits of the whole runtime.
public struct SchedulerOptions: Sendable {
    /// The sum of the memory of all containers, in MB (default: the host's
    /// available memory less a headroom of 10% or 512 MB, whichever is larger).
    public var memoryBudgetMB: Int
    /// Calls that may wait for a container, per function; past it: 503.
    public var maxQueuedCalls: Int = 100
    /// How long a queued call waits for a busy container to come free before a 503.
    public var maxQueueWait: Duration = .seconds(30)
    /// How long a call may wait for a container being started for it (the
    /// image loaded into Docker, the start, the listener) before a 503; the
    /// start's own failure reaches it sooner.
    public var maxStartWait: Duration = .seconds(180)
    /// What 503 answers put in `Retry-After`, in seconds.
    public var retryAfterSeconds: Int = 1
    /// The first wait after a failed start; doubled per failure, up to `maxBackoff`.
    public var startBackoff: Duration = .milliseconds(500)
    public var maxBackoff: Duration = .seconds(30)

    public init(memoryBudgetMB: Int? = nil) {
        self.memoryBudgetMB = memoryBudgetMB ?? Self.defaultBudgetMB()
    }

    static func defaultBudgetMB() -> Int {
        let text = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let availableKB = text.split(separator: "\n").first { $0.hasPrefix("MemAvailable:") }
            .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } } ?? 4 << 20
        let available = availableKB / 1024
        return max(128, available - max(512, available / 10))
    }
}

/// A call's result for any caller: gateway, `/invoke`, CLI, tests.
public struct InvocationResult: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: ByteBuffer
    /// True when this call waited for a new container.
    public var cold: Bool
    /// The container that answered (nil when none did).
    public var containerID: String?
    /// Time spent waiting for a container.
    public var wait: Duration
    /// Time spent in the call to the function itself.
    public var callDuration: Duration = .zero
}

/// Routes calls to hot containers, one call per container at a time.
///
/// Each distinct `FunctionSpec` (image, memory, timeouts, config...) has its
/// own pool, so changed settings send new calls to new containers while the
/// old ones finish and go. Idle containers are reused last-in-first-out, so
/// surplus ones age out; a container is launched when the calls waiting
/// outnumber those already starting, within the function's maximum and the
/// runtime's memory budget, evicting other functions' least recently used
/// idle containers when memory is short. Calls queue up to a bound, then get
/// 503 with Retry-After. A container idle past its function's idle timeout is
/// stopped and removed. A call past its timeout gets 504 and its container is
/// killed; a crash gives 502 and the container is replaced; a start-up
/// failure reaches every waiting caller, and a function that keeps failing to
/// start is backed off.
///
/// All state sits behind one lock, held only for bookkeeping (never across
/// I/O): a warm call takes the lock twice, once to take an idle container and
/// once to give it back, with no actor hop, so the gateway's event loops can
/// serve warm calls without leaving the thread (`invokeWarm`).
///
/// `@unchecked Sendable`: every stored `var` is read and written only inside
/// `lock.withLock` (the methods marked "lock held" are called only from
/// there, and none of them takes the lock or awaits); every `let` is Sendable.
public final class Scheduler: @unchecked Sendable {
    private let lock = NIOLock()
    let driver: any ContainerDriver
    let options: SchedulerOptions
    let trace: InvocationTrace?
    private var pools: [FunctionSpec: Pool] = [:]
    /// What the adaptive keep-alive learned, per function (`app/name`), kept across setting changes.
    private var keepAlives: [String: AdaptiveKeepAlive] = [:]
    /// Each function's metric objects, shared by its pools (by `app/name`).
    private var functionMetrics: [String: SchedulerMetrics.Function] = [:]
    private var reaper: Task<Void, Never>?
    /// When the armed reaper wakes.
    private var reaperDeadline: ContinuousClock.Instant?
    private var accepting = true
    private var inFlight = 0

    let metrics: SchedulerMetrics
    let logger: Logger

    /// `metrics`: where metrics go (default: the process's bootstrapped swift-metrics backend).
    /// `logger`: where a container that fails to start, or breaks, is reported, with its last lines of output.
    public init(driver: any ContainerDriver, options: SchedulerOptions = SchedulerOptions(), trace: InvocationTrace? = nil,
                metrics: any MetricsFactory = MetricsSystem.factory, logger: Logger = Logger(label: "fnrt.scheduler")) {
        self.driver = driver
        self.logger = logger
        self.options = options
        self.trace = trace
        self.metrics = SchedulerMetrics(factory: metrics)
    }

    // MARK: State

    /// A hot container and its connection: one object, so that a lease
    /// carries one reference (copying the container's strings into every
    /// lease touched their memory on every call). `@unchecked Sendable`: its
    /// `var`s are touched only under the scheduler's lock.
    final class Hot: @unchecked Sendable {
        let container: Container
        let connection: FDKConnection
        /// The connection's, kept here: choosing a container on the caller's
        /// loop reads it without touching the connection and its channel.
        let eventLoop: any EventLoop
        var lastUsed: ContinuousClock.Instant = .now
        /// When it is stopped if still idle (set each time it becomes idle).
        var expires: ContinuousClock.Instant = .now
        /// Its connection has ended (told by `FDKConnection.onClose`): never idle again.
        var closed = false

        init(container: Container, connection: FDKConnection) {
            self.container = container
            self.connection = connection
            eventLoop = connection.eventLoop
        }
    }

    struct Waiter {
        let id: UInt64
        /// Resumed with a lease on the container it gets, or with its refusal.
        let continuation: CheckedContinuation<Admission, Never>
        /// When the call arrived.
        let since: ContinuousClock.Instant

        /// Lock held. Refuses the call for `failure`.
        func refuse(_ failure: StartFailure, by scheduler: Scheduler, spec: FunctionSpec, pool: Pool) {
            continuation.resume(returning: .refused(scheduler.failed(spec, pool: pool, failure, wait: ContinuousClock.now - since)))
        }
    }

    /// Why a call got no container.
    enum StartFailure: Error {
        case startup(any Error)
        case overloaded(String)
        case shuttingDown
    }

    /// A function's containers and waiting calls; a class, so one dictionary
    /// lookup per operation reaches it. What every call reads or writes sits
    /// at the front (stored properties are laid out in order), so that with
    /// hundreds of pools a call touches one or two of its cache lines; the
    /// spec it was made for is at the back, and a lease carries the pool, not
    /// a copy of the spec (a copy retained its strings and maps: more cold
    /// memory per call).
    /// `@unchecked Sendable`: a lease carries it across threads, but its
    /// `var`s are touched only under the scheduler's lock.
    final class Pool: @unchecked Sendable {
        var idle: [Hot] = []
        var busy = 0
        var waiters: [Waiter] = []
        /// Its function changed or went (`retire`): no container stays idle in it.
        var retired = false
        /// This pool's hot containers as last counted in its function's gauge.
        private var countedHot = 0
        let metrics: SchedulerMetrics.Function
        /// `idle_timeout: auto`: what the keep-alive policy has learned, and its current windows.
        var keepAlive: AdaptiveKeepAlive?
        /// The spec's, read by every call.
        let idleTimeout: Duration
        let provisioned: Int
        // The rest: starts, failures, pre-warms, the spec.
        var starting = 0
        var failures = 0
        var lastFailure: (any Error)?
        var backoffUntil: ContinuousClock.Instant?
        /// Unloaded by the keep-alive policy, a pre-warm to come.
        var prewarmPending = false
        /// The settings this pool's containers run with (its key in `pools`).
        let spec: FunctionSpec

        init(spec: FunctionSpec, metrics: SchedulerMetrics.Function) {
            self.metrics = metrics
            idleTimeout = spec.idleTimeout
            provisioned = spec.provisioned
            self.spec = spec
        }

        var total: Int { idle.count + busy + starting }

        /// Brings the function's hot-container gauge up to date with this
        /// pool, when its count changed (a warm call takes and gives back the
        /// same container: no gauge write, no cold metric object touched).
        func updateHot() {
            let hot = idle.count + busy
            guard hot != countedHot else { return }
            metrics.addHot(hot - countedHot)
            countedHot = hot
        }
    }

    /// The pool of `spec`, made on first use (lock held). Pools of one function (old and
    /// new settings) share its metric objects, so its gauge counts both.
    private func pool(_ spec: FunctionSpec) -> Pool {
        if let pool = pools[spec] { return pool }
        let name = "\(spec.app)/\(spec.name)"
        let shared = functionMetrics[name] ?? SchedulerMetrics.Function(name: name, factory: metrics.factory)
        functionMetrics[name] = shared
        let pool = Pool(spec: spec, metrics: shared)
        if let policy = spec.adaptiveKeepAlive {
            let key = "\(spec.app)/\(spec.name)"
            if keepAlives[key]?.policy != policy || keepAlives[key]?.fallback != spec.idleTimeout {
                keepAlives[key] = AdaptiveKeepAlive(policy: policy, fallback: spec.idleTimeout)
            }
            pool.keepAlive = keepAlives[key]
        }
        pools[spec] = pool
        return pool
    }

    private var nextWaiterID: UInt64 = 0

    /// Memory of every container, starting, idle or busy.
    var usedMemoryMB: Int { pools.reduce(0) { $0 + $1.value.total * $1.key.memoryMB } }

    // MARK: Invoke

    /// A container taken for one call; given back by `complete`.
    struct Lease: Sendable {
        let pool: Pool
        let hot: Hot
        let cold: Bool
        /// How long it waited for the container.
        let wait: Duration
    }

    /// What `admit` decided for a call.
    enum Admission: Sendable {
        case leased(Lease)
        /// No idle container: the caller queues a `Waiter` in this pool.
        case wait(Pool)
        case refused(InvocationResult)
        /// `invokeWarm` only: no idle container, nothing changed.
        case notWarm
    }

    /// Calls `spec` with `request`. Never throws: every failure is a status
    /// (502, 503 with Retry-After, 504) and a reason in the body.
    public func invoke(_ spec: FunctionSpec, request: FDKRequest) async -> InvocationResult {
        let arrived = ContinuousClock.now
        var admission = lock.withLock { admit(spec, at: arrived, preferring: nil, mayWait: false) }
        if case .notWarm = admission {
            // No idle container: decided again and, if it must wait, queued
            // under the same lock, so no container can come free in between.
            admission = await withCheckedContinuation { continuation in
                lock.withLock {
                    let admission = admit(spec, at: arrived, preferring: nil, mayWait: true)
                    guard case .wait(let pool) = admission else { return continuation.resume(returning: admission) }
                    nextWaiterID += 1
                    pool.waiters.append(Waiter(id: nextWaiterID, continuation: continuation, since: arrived))
                    launchIfNeeded(spec)
                    scheduleQueueTimeout(spec, id: nextWaiterID)
                }
            }
        }
        let lease: Lease
        switch admission {
        case .leased(let leased): lease = leased
        case .refused(let result):
            // A failed start is traced (outside the lock: the trace writes a file); a 503 is not.
            if result.cold { record(spec, result, duration: .zero) }
            return result
        case .wait, .notWarm: return unavailable("no container")  // never: waiting calls get a lease or a refusal
        }
        let callStarted = ContinuousClock.now
        let outcome = await lease.hot.connection.call(Self.call(request, for: spec), timeout: spec.timeout)
        return complete(lease, outcome: outcome, callStarted: callStarted)
    }

    /// The warm path for a caller on an event loop (the gateway): when `spec`
    /// has an idle container, the call made on it and its result given to
    /// `completion` on `eventLoop` (true); false when there is none (use
    /// `invoke`, which queues and starts containers), and `completion` is
    /// not called. A container whose connection runs on `eventLoop` is
    /// preferred, so that the call needs no thread hop.
    public func invokeWarm(_ spec: FunctionSpec, request: FDKRequest, on eventLoop: any EventLoop,
                           completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool {
        let arrived = ContinuousClock.now
        let lease: Lease
        switch lock.withLock({ admit(spec, at: arrived, preferring: eventLoop, mayWait: false) }) {
        case .leased(let leased): lease = leased
        case .refused(let result):
            completion(result)
            return true
        case .wait, .notWarm: return false
        }
        let callStarted = ContinuousClock.now
        let connection = lease.hot.connection
        connection.call(Self.call(request, for: spec), timeout: spec.timeout) { outcome in
            let result = self.complete(lease, outcome: outcome, callStarted: callStarted)
            if connection.eventLoop === eventLoop { completion(result) } else { eventLoop.execute { completion(result) } }
        }
        return true
    }

    /// The call as sent: its deadline from the function's timeout.
    private static func call(_ request: FDKRequest, for spec: FunctionSpec) -> FDKRequest {
        var call = request
        call.deadline = spec.callDeadline()
        return call
    }

    /// Lock held. Takes an idle container (the most recently used; one on
    /// `loop` among the top few when given), or says the call must wait
    /// (`mayWait`; the caller queues it) or that none is idle, or refuses it
    /// (shutting down, backing off, queue full).
    private func admit(_ spec: FunctionSpec, at arrived: ContinuousClock.Instant, preferring loop: (any EventLoop)?, mayWait: Bool) -> Admission {
        guard accepting else { return .refused(unavailable("the runtime is shutting down")) }
        // One lookup per call: the pool stays while it has calls, busy or waiting.
        guard let pool = mayWait ? pool(spec) : pools[spec] else { return .notWarm }
        // A call with a retired pool's settings (changed back, or resolved just before the change) makes them current again.
        pool.retired = false
        guard let hot = popIdle(pool, preferring: loop) else {
            guard mayWait else { return .notWarm }
            pool.keepAlive?.callArrived(at: arrived, busy: pool.busy)
            if let until = pool.backoffUntil, ContinuousClock.now < until, let error = pool.lastFailure, pool.total == 0 {
                return .refused(failed(spec, pool: pool, .startup(error), wait: .zero))
            }
            guard pool.waiters.count < options.maxQueuedCalls else {
                return .refused(failed(spec, pool: pool, .overloaded("\(spec.app)/\(spec.name): \(pool.waiters.count) calls already wait; try again later"), wait: .zero))
            }
            return .wait(pool)
        }
        pool.keepAlive?.callArrived(at: arrived, busy: pool.busy - 1)
        return .leased(lease(hot, pool: pool, cold: false, arrived: arrived))
    }

    /// Lock held. A lease on `hot` (already counted busy) for a call that arrived at `arrived`.
    private func lease(_ hot: Hot, pool: Pool, cold: Bool, arrived: ContinuousClock.Instant) -> Lease {
        inFlight += 1
        let wait = ContinuousClock.now - arrived
        pool.metrics.queueWait.recordNanoseconds(wait.nanoseconds)
        return Lease(pool: pool, hot: hot, cold: cold, wait: wait)
    }

    /// Lock held. An idle container made busy, or nil. Idle containers are
    /// alive: one whose connection ends (dockerd restarted, OOM...) leaves
    /// the idle list then (`connectionEnded`), so no call asks its connection.
    private func popIdle(_ pool: Pool, preferring loop: (any EventLoop)?) -> Hot? {
        if let loop, pool.idle.count > 1 {
            // Among the few most recently used, one on the caller's loop.
            for index in pool.idle.indices.reversed().prefix(4) where pool.idle[index].eventLoop === loop {
                return markBusy(pool.idle.remove(at: index), pool)
            }
        }
        return pool.idle.popLast().map { markBusy($0, pool) }
    }

    /// Lock held. `hot`'s connection ended: an idle container is stopped and
    /// removed now, a busy one when its call ends (`release`).
    private func connectionEnded(_ hot: Hot, pool: Pool) {
        hot.closed = true
        guard let index = pool.idle.firstIndex(where: { $0 === hot }) else { return }
        pool.idle.remove(at: index)
        pool.updateHot()
        discard(hot, reporting: (pool.spec, "its connection ended while it was idle: the function exited or was killed"))
    }

    private func markBusy(_ hot: Hot, _ pool: Pool) -> Hot {
        pool.busy += 1
        pool.updateHot()
        return hot
    }

    /// Gives the lease's container back and turns the call's outcome into
    /// the caller's result, with its metrics and trace entry.
    private func complete(_ lease: Lease, outcome: CallOutcome, callStarted: ContinuousClock.Instant) -> InvocationResult {
        let duration = ContinuousClock.now - callStarted
        let hot = lease.hot, cold = lease.cold, wait = lease.wait
        var result: InvocationResult
        switch outcome {
        case .success(let status, let headers, let body):
            result = InvocationResult(status: status, headers: headers, body: body, cold: cold, containerID: hot.container.id, wait: wait)
        case .functionFailed(let status, let body):
            result = InvocationResult(status: status, headers: [("Content-Type", "text/plain")], body: body, cold: cold, containerID: hot.container.id, wait: wait)
        case .invalidResponse(let status):
            result = failure(502, "invalid function response (the FDK answered \(status))", cold: cold, hot: hot, wait: wait)
        case .receiveError(let reason):
            result = failure(502, "error receiving function response: \(reason)", cold: cold, hot: hot, wait: wait)
        case .timedOut:
            result = failure(504, "timed out after \(lease.pool.spec.timeout)", cold: cold, hot: hot, wait: wait)
        }
        result.callDuration = duration
        lock.withLock {
            release(hot, pool: lease.pool, brokenBy: outcome.containerIsBroken ? String(buffer: result.body) : nil)
            inFlight -= 1
            // The function's metric objects keep per-function state: under the lock too.
            let metrics = lease.pool.metrics
            metrics.call.recordNanoseconds(duration.nanoseconds)
            metrics.countCall(outcome: Self.outcomeLabel(outcome), cold: cold)
        }
        record(lease.pool.spec, result, duration: duration)
        return result
    }

    /// Lock held. The result of a call that got no container.
    func failed(_ spec: FunctionSpec, pool: Pool, _ failure: StartFailure, wait: Duration) -> InvocationResult {
        let metrics = pool.metrics
        metrics.queueWait.recordNanoseconds(wait.nanoseconds)
        switch failure {
        case .overloaded(let reason):
            metrics.countCall(outcome: .unavailable, cold: false)
            return unavailable(reason)
        case .shuttingDown:
            metrics.countCall(outcome: .unavailable, cold: false)
            return unavailable("the runtime is shutting down")
        case .startup(let error):
            let status = (error as? ContainerError).map { if case .startupTimeout = $0 { 504 } else { 502 } } ?? 502
            let result = InvocationResult(status: status, headers: [("Content-Type", "text/plain")], body: ByteBuffer(string: "\(error)\n"),
                                          cold: true, containerID: nil, wait: wait)
            metrics.countCall(outcome: .startFailure, cold: true)
            return result
        }
    }

    static func outcomeLabel(_ outcome: CallOutcome) -> SchedulerMetrics.Function.Outcome {
        switch outcome {
        case .success(let status, _, _): status < 400 ? .ok : .functionError
        case .functionFailed: .functionError
        case .invalidResponse, .receiveError: .broken
        case .timedOut: .timeout
        }
    }

    private func failure(_ status: Int, _ message: String, cold: Bool, hot: Hot, wait: Duration) -> InvocationResult {
        InvocationResult(status: status, headers: [("Content-Type", "text/plain")], body: ByteBuffer(string: message + "\n"),
                         cold: cold, containerID: hot.container.id, wait: wait)
    }

    private func unavailable(_ reason: String) -> InvocationResult {
        InvocationResult(status: 503, headers: [("Retry-After", "\(options.retryAfterSeconds)"), ("Content-Type", "text/plain")],
                         body: ByteBuffer(string: reason + "\n"), cold: false, containerID: nil, wait: .zero)
    }

    private func record(_ spec: FunctionSpec, _ result: InvocationResult, duration: Duration) {
        trace?.record(InvocationTrace.Entry(app: spec.app, function: spec.name, cold: result.cold, waitMS: result.wait.milliseconds,
                                            durationMS: duration.milliseconds, memoryMB: spec.memoryMB, status: result.status))
    }

    /// Lock held. Launches containers while waiting calls outnumber those starting,
    /// within the function's maximum and the memory budget (evicting other
    /// functions' least recently used idle containers when memory is short).
    private func launchIfNeeded(_ spec: FunctionSpec) {
        guard accepting, let pool = pools[spec] else { return }
        if let until = pool.backoffUntil, ContinuousClock.now < until {
            scheduleRetry(spec, at: until)
            return
        }
        let prewarm = pool.keepAlive?.prewarmWanted == true ? 1 : 0
        let kept = pool.retired ? 0 : max(spec.provisioned, prewarm)
        // Calls waiting beyond the containers starting for them, or fewer containers than kept
        // (`total` counts those starting). The sum of the two, against `starting`, counted the
        // starting ones twice: two provisioned containers got one.
        while pool.waiters.count > pool.starting || kept > pool.total, pool.total < spec.maxContainers {
            guard makeRoom(spec.memoryMB, except: spec) else { break }
            pool.starting += 1
            Task { await self.launch(spec) }
        }
    }

    /// Lock held. True when `memoryMB` more fits the budget, after evicting idle
    /// containers of other functions, least recently used first.
    private func makeRoom(_ memoryMB: Int, except spec: FunctionSpec) -> Bool {
        while usedMemoryMB + memoryMB > options.memoryBudgetMB {
            var oldest: (FunctionSpec, Int, ContinuousClock.Instant)?
            for (key, pool) in pools where key != spec {
                for (index, hot) in pool.idle.enumerated() where pool.total > key.provisioned {
                    if oldest == nil || hot.lastUsed < oldest!.2 { oldest = (key, index, hot.lastUsed) }
                }
            }
            guard let (key, index, _) = oldest else { return false }
            let hot = pools[key]!.idle.remove(at: index)  // a class: removed in place
            pools[key]!.updateHot()
            discard(hot)
            evictionCount += 1
            metrics.evictions.increment()
        }
        return true
    }

    private var evictionCount = 0
    /// Containers stopped to make room for others.
    public var evictions: Int { lock.withLock { evictionCount } }

    private func launch(_ spec: FunctionSpec) async {
        let driver = self.driver
        let launched = ContinuousClock.now
        let result: Result<Hot, any Error>
        do {
            let (container, connection) = try await driver.startListening(spec)
            result = .success(Hot(container: container, connection: connection))
        } catch {
            result = .failure(error)
        }
        let took = ContinuousClock.now - launched
        lock.withLock {
            if case .success = result { pools[spec]?.metrics.startup.recordNanoseconds(took.nanoseconds) }
            started(spec, result)
        }
    }

    /// Lock held.
    private func started(_ spec: FunctionSpec, _ result: Result<Hot, any Error>) {
        let pool = pool(spec)
        pool.starting -= 1
        switch result {
        case .success(let hot):
            pool.failures = 0
            pool.backoffUntil = nil
            if !accepting { discard(hot); return }
            // Until its end: the connection holds this closure, the closure the container.
            hot.connection.onClose { self.lock.withLock { self.connectionEnded(hot, pool: pool) } }
            hand(hot, pool: pool)
        case .failure(let error):
            pool.metrics.startFailures.increment()
            pool.lastFailure = error
            logger.warning("a container did not start", metadata: ["function": "\(spec.app)/\(spec.name)", "error": "\(error)"])
            // One doubling per round of starts: those launched together that
            // fail together (the engine went away) count once, or a few
            // concurrent callers would push the backoff to its maximum at once.
            if pool.backoffUntil.map({ ContinuousClock.now >= $0 }) ?? true {
                pool.failures += 1
                let delay = min(options.maxBackoff, options.startBackoff * (1 << min(pool.failures - 1, 16)))
                pool.backoffUntil = .now + delay
            }
            // The reason reaches every caller waiting for this function.
            let waiters = pool.waiters
            pool.waiters = []
            waiters.forEach { $0.refuse(.startup(error), by: self, spec: spec, pool: pool) }
            // Provisioned containers are tried again once the backoff is over.
            if spec.provisioned > pool.total, let until = pool.backoffUntil { scheduleRetry(spec, at: until) }
        }
    }

    /// Lock held. Gives a free container to the first waiting call, or makes it idle.
    private func hand(_ hot: Hot, pool: Pool) {
        defer { pool.updateHot() }
        if !pool.waiters.isEmpty {
            let waiter = pool.waiters.removeFirst()
            pool.busy += 1
            waiter.continuation.resume(returning: .leased(lease(hot, pool: pool, cold: true, arrived: waiter.since)))
            return
        }
        if pool.retired { return discard(hot) }
        hot.lastUsed = .now
        hot.expires = pool.keepAlive?.expiry(now: hot.lastUsed) ?? hot.lastUsed + pool.idleTimeout
        pool.idle.append(hot)
        // Constant work per call: re-arm only when this deadline comes first.
        if reaperDeadline.map({ hot.expires < $0 }) ?? true { armReaper() }
    }

    /// Lock held. `brokenBy`: why the call broke the container, which is then killed.
    private func release(_ hot: Hot, pool: Pool, brokenBy breakage: String?) {
        // The gauge of hot containers is updated where the container ends up
        // (a container going back to idle leaves it as it was).
        pool.busy -= 1
        if breakage != nil || hot.closed || !accepting {
            pool.updateHot()
            discard(hot, kill: breakage != nil, reporting: breakage.map { (pool.spec, "a call broke it: \($0.trimmingCharacters(in: .newlines))") })
            launchIfNeeded(pool.spec)  // a replacement for the calls still waiting
            return
        }
        // Provisioned functions keep their containers whatever the policy says.
        if let keepAlive = pool.keepAlive, pool.provisioned == 0, pool.busy == 0, pool.waiters.isEmpty,
           let prewarmAt = keepAlive.callEnded(at: .now) {
            // The policy says: unload now, load again just before the next call is due.
            discard(hot)
            discardIdle(of: pool)
            pool.prewarmPending = true
            let unload = keepAlive.unloads, spec = pool.spec
            Task {
                try? await Task.sleep(until: prewarmAt, clock: .continuous)
                self.lock.withLock { self.prewarm(spec, unload: unload) }
            }
            return
        }
        hand(hot, pool: pool)
    }

    /// Lock held. Starts the container the keep-alive policy expects the next call to
    /// need, unless a call came first or a later unload has its own timer.
    private func prewarm(_ spec: FunctionSpec, unload: UInt64) {
        guard let pool = pools[spec], let keepAlive = pool.keepAlive, keepAlive.unloads == unload else { return }
        pool.prewarmPending = false
        guard keepAlive.prewarmWanted, pool.total == 0 else { return }
        launchIfNeeded(spec)
    }

    /// Lock held. Stops (or kills) and removes a container in the background. With `report`, it
    /// went unasked: the log says why, with its last lines of output, which
    /// go with it.
    private func discard(_ hot: Hot, kill: Bool = false, reporting report: (function: FunctionSpec, reason: String)? = nil) {
        hot.connection.close()
        let driver = self.driver, logger = self.logger
        Task {
            if kill { try? await driver.kill(hot.container) } else { try? await driver.stop(hot.container, grace: .seconds(2)) }
            if let (spec, reason) = report {
                let (output, end) = await driver.lastWords(of: hot.container, memoryMB: spec.memoryMB)
                logger.warning("a container was removed: \(reason)\(end)", metadata: [
                    "function": "\(spec.app)/\(spec.name)", "container": "\(hot.container.id)",
                    "output": "\(output.map { String($0.prefix(400)) }.joined(separator: "\n"))",
                ])
            }
            try? await driver.remove(hot.container)
        }
    }

    private func scheduleQueueTimeout(_ spec: FunctionSpec, id: UInt64, after wait: Duration? = nil) {
        let wait = wait ?? options.maxQueueWait
        Task {
            try? await Task.sleep(for: wait)
            self.lock.withLock { self.expireWaiter(spec, id: id) }
        }
    }

    /// Lock held.
    private func expireWaiter(_ spec: FunctionSpec, id: UInt64) {
        guard let pool = pools[spec], let index = pool.waiters.firstIndex(where: { $0.id == id }) else { return }
        // A caller a starting container will serve waits for that start (its
        // image load included) up to `maxStartWait`; a failed start reaches
        // it sooner. The queue bound is for calls waiting on busy containers.
        let waited = ContinuousClock.now - pool.waiters[index].since
        if index < pool.starting, waited < options.maxStartWait {
            scheduleQueueTimeout(spec, id: id, after: min(options.maxQueueWait, options.maxStartWait - waited))
            return
        }
        let waiter = pool.waiters.remove(at: index)
        let reason = index < pool.starting ? "no container started in \(options.maxStartWait)" : "no container became free in \(options.maxQueueWait)"
        waiter.refuse(.overloaded("\(spec.app)/\(spec.name): \(reason)"), by: self, spec: spec, pool: pool)
    }

    private func scheduleRetry(_ spec: FunctionSpec, at instant: ContinuousClock.Instant) {
        Task {
            try? await Task.sleep(until: instant, clock: .continuous)
            self.lock.withLock { self.launchIfNeeded(spec) }
        }
    }

    // MARK: Idle timeouts

    /// Lock held. One task sleeps until the earliest idle deadline, reaps, and re-arms.
    private func armReaper() {
        reaper?.cancel()
        reaperDeadline = nextIdleDeadline()
        guard let next = reaperDeadline else { reaper = nil; return }
        reaper = Task {
            try? await Task.sleep(until: next, clock: .continuous)
            guard !Task.isCancelled else { return }
            self.lock.withLock { self.reap() }
        }
    }

    private func nextIdleDeadline() -> ContinuousClock.Instant? {
        // The most recently used `provisioned` containers never expire.
        pools.flatMap { spec, pool in pool.idle.dropLast(max(0, spec.provisioned - pool.busy - pool.starting)).map(\.expires) }.min()
    }

    /// Lock held.
    private func reap() {
        let now = ContinuousClock.now
        for (spec, pool) in pools {
            // The least recently used go first; provisioned containers stay.
            var keep: [Hot] = []
            for (index, hot) in pool.idle.enumerated() {
                let protected = pool.idle.count - index <= max(0, spec.provisioned - pool.busy - pool.starting)
                if !protected, now >= hot.expires { discard(hot) } else { keep.append(hot) }
            }
            pool.idle = keep
            pool.updateHot()
        }
        pools = pools.filter { key, pool in
            let keep = pool.total > 0 || !pool.waiters.isEmpty || (key.provisioned > 0 && !pool.retired) || pool.prewarmPending
            if !keep { pool.updateHot() }  // its containers leave the function's gauge
            return keep
        }
        armReaper()
    }

    // MARK: Lifecycle

    /// Starts the provisioned containers of `spec` (kept hot at all times).
    public func provision(_ spec: FunctionSpec) {
        lock.withLock {
            _ = pool(spec)
            launchIfNeeded(spec)
        }
    }

    /// Retires the pools whose settings `isStale` says are no longer a
    /// function's (it changed, or was deleted): their idle containers are
    /// stopped and removed now, busy ones once their calls end (after serving
    /// the calls waiting for them), and none is kept for provisioned
    /// concurrency. Without this, they stayed until their idle timeout (up to
    /// an hour). A later call with a retired pool's settings makes them
    /// current again.
    public func retire(where isStale: (FunctionSpec) -> Bool) {
        lock.withLock {
            for (spec, pool) in pools where isStale(spec) {
                pool.retired = true
                discardIdle(of: pool)
            }
        }
    }

    /// Lock held. Stops and removes every idle container of `pool`.
    private func discardIdle(of pool: Pool) {
        pool.idle.forEach { discard($0) }
        pool.idle = []
        pool.updateHot()
    }

    /// The settings of every pool: the functions this runtime has containers or calls for.
    public func poolSpecs() -> [FunctionSpec] { lock.withLock { Array(pools.keys) } }

    /// Removes containers an earlier instance of this runtime left behind.
    public func removeOrphans() async throws -> Int {
        let orphans = try await driver.listOrphans()
        for container in orphans { try? await driver.remove(container) }
        return orphans.count
    }

    /// Stops taking calls, lets those in flight finish (at most `grace`), then
    /// removes every container.
    public func shutdown(grace: Duration = .seconds(10)) async {
        stopAccepting()
        let deadline = ContinuousClock.now + grace
        while lock.withLock({ inFlight }) > 0, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        let idle = lock.withLock {
            reaper?.cancel()
            defer { pools = [:] }
            // Out of the pools, so their connections' ends do not discard them again.
            return pools.values.flatMap { pool in defer { pool.idle = [] }; return pool.idle }
        }
        for hot in idle { hot.connection.close() }
        await withTaskGroup(of: Void.self) { group in
            for hot in idle { group.addTask { [driver] in try? await driver.remove(hot.container) } }
        }
        for container in (try? await driver.list()) ?? [] { try? await driver.remove(container) }
        trace?.flush()
    }

    /// The first step of a shutdown: new calls and those waiting for a
    /// container get 503; calls in flight go on.
    public func stopAccepting() {
        lock.withLock {
            accepting = false
            for (spec, pool) in pools {
                let waiters = pool.waiters
                pool.waiters = []
                waiters.forEach { $0.refuse(.shuttingDown, by: self, spec: spec, pool: pool) }
            }
        }
    }

    /// Hot containers per function (idle + busy), for metrics and tests.
    public func hotContainers() -> [String: Int] {
        lock.withLock {
            var counts: [String: Int] = [:]
            for (spec, pool) in pools { counts["\(spec.app)/\(spec.name)", default: 0] += pool.idle.count + pool.busy }
            return counts
        }
    }

    /// IDs of idle containers of `spec`, least recently used first.
    public func idleContainers(_ spec: FunctionSpec) -> [String] { lock.withLock { pools[spec]?.idle.map(\.container.id) ?? [] } }
}
