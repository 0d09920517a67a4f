import Docker
import Foundation
import ImageStore
import Runtime
import Testing

/// A dockerd of this test's own (Scripts/services/dockerd-instance): the
/// shared one cannot be restarted while other suites use it.
struct PrivateDockerd {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Scripts/services/dockerd-instance").path

    let name: String
    let socket: String

    /// Starts a new daemon; returns when it answers.
    static func start(_ prefix: String) async throws -> PrivateDockerd {
        let name = "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        let socket = try await command("start", name).trimmingCharacters(in: .whitespacesAndNewlines)
        return PrivateDockerd(name: name, socket: socket)
    }

    /// Stops it (SIGTERM, every container with it) and starts it again on the same data.
    func restart() async throws { try await Self.command("restart", name) }
    /// Stops it, keeping its data and log (to look at after a failure).
    func stop() async throws { try await Self.command("stop", name) }
    /// Stops it and deletes its directory.
    func destroy() async throws { try await Self.command("destroy", name) }

    /// Runs the script on a thread of its own: stopping a daemon takes seconds
    /// and the cooperative pool has only 2 threads here.
    @discardableResult
    private static func command(_ verb: String, _ name: String) async throws -> String {
        let (status, stdout, stderr) = try await run([script, verb, name])
        guard status == 0 else { throw TestFailure("dockerd-instance \(verb) \(name) exited \(status): \(stderr)") }
        return stdout
    }
}

@Suite(.enabled(if: Services.available, Services.skipReason))
struct DockerRestartTests {
    /// One call of the load, as its caller saw it.
    struct Call: Sendable {
        var loop: Int
        var started: ContinuousClock.Instant
        var ended: ContinuousClock.Instant
        var status: Int
        var text: String
    }

    /// Issue 5: "if dockerd restarts, the pools notice and rebuild without a
    /// restart of fnrt". Concurrent callers keep calling a function while its
    /// engine is restarted; each call must come back (no hang) with 200, or
    /// 502/503/504 while the engine is away, calls must succeed again soon
    /// after it is back with the same scheduler, and a shutdown must leave no
    /// container behind in the engine.
    @Test(.timeLimit(.minutes(5)))
    func theSchedulerRecoversWhenDockerdRestartsUnderLoad() async throws {
        let daemon = try await PrivateDockerd.start("restart-test")
        do {
            try await underLoad(daemon)
        } catch {
            try? await daemon.stop()
            throw error
        }
        // Its data goes only when everything passed; after a failure its log stays, and so
        // does it when the engine left a container's overlay mounted (`removable`): the
        // mount keeps the directory from being deleted.
        if failures.value == 0, refusedByEngine.value == 0 {
            try await daemon.destroy()
        } else {
            try await daemon.stop()
        }
    }

    /// Containers the engine itself refused to remove (`removable`).
    private let refusedByEngine = Locked(0)

    /// Failed expectations of this test (Swift Testing has no public query for them).
    private let failures = Locked(0)

    /// Records a failed expectation, and counts it.
    private func check(_ condition: Bool, _ comment: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard !condition else { return }
        failures.update { $0 += 1 }
        Issue.record(Comment(rawValue: comment()), sourceLocation: sourceLocation)
    }

    private func underLoad(_ daemon: PrivateDockerd) async throws {
        let docker = DockerClient(endpoint: DockerEndpoint(socketPath: daemon.socket))
        let instance = "restart-\(UUID().uuidString.prefix(8).lowercased())"
        // The driver loads fns/hello:test from the store into the new daemon itself.
        let driver = try DockerDriver(docker: docker, store: FunctionImages.store, home: FunctionImages.home, instance: instance)
        let scheduler = Scheduler(driver: driver, options: SchedulerOptions().forTests)
        let function = spec("hello")

        let first = await invoke(scheduler, function, "before")
        check(first.status == 200, "the first call: \(first.status) \(first.text)")

        // The load: a few callers, each calling again as soon as it has an answer
        // (after a failure, a short pause, as a client that retries would).
        let loops = 4
        let calls = Locked<[Call]>([])
        let inFlight = Locked<[Int: ContinuousClock.Instant]>([:])
        let stopping = Locked(false)
        let finished = Locked(0)
        for loop in 0..<loops {
            Task {
                while !stopping.value {
                    let started = ContinuousClock.now
                    inFlight.update { $0[loop] = started }
                    let result = await invoke(scheduler, function, "load \(loop)")
                    let call = Call(loop: loop, started: started, ended: .now, status: result.status, text: result.text)
                    inFlight.update { $0[loop] = nil }
                    calls.update { $0.append(call) }
                    if result.status != 200 { try? await Task.sleep(for: .milliseconds(50)) }
                }
                finished.update { $0 += 1 }
            }
        }

        do {
            let loaded = await eventually(within: .seconds(30)) { calls.value.filter { $0.status == 200 }.count >= 4 * loops }
            check(loaded, "the load did not get going: \(summary(calls.value))")

            let restarting = ContinuousClock.now
            try await daemon.restart()
            let back = ContinuousClock.now
            print("dockerd \(daemon.name) restarted in \(back - restarting)")

            // Back: calls succeed again, with the same scheduler, within a bound.
            let recovered = await eventually(within: .seconds(60)) { calls.value.contains { $0.status == 200 && $0.started >= back } }
            let firstSuccess = calls.value.filter { $0.status == 200 && $0.started >= back }.map(\.ended).min()
            let recovery = firstSuccess.map { $0 - back }
            check(recovered, "no call succeeded in the 60 s after dockerd was back: \(summary(calls.value))")
            if let recovery {
                print("first success \(recovery) after dockerd was back")
                check(recovery < .seconds(10), "calls succeeded again only \(recovery) after dockerd was back")
            }
            // And they keep succeeding: the pool is rebuilt, not flapping.
            if let firstSuccess {
                try await Task.sleep(for: .seconds(2))
                let later = calls.value.filter { $0.started > firstSuccess }
                check(later.count >= loops, "only \(later.count) calls in the 2 s after the recovery")
                let failedLater = later.filter { $0.status != 200 }
                check(failedLater.isEmpty, "calls failed after the recovery: \(summary(failedLater))")
            }
        } catch {
            stopping.update { $0 = true }
            _ = await eventually(within: .seconds(60)) { finished.value == loops }
            await scheduler.shutdown()
            throw error
        }

        // Every call came back: none hangs.
        stopping.update { $0 = true }
        let ended = await eventually(within: .seconds(60)) { finished.value == loops }
        let hung = inFlight.value.map { "caller \($0.key): waiting for \(ContinuousClock.now - $0.value)" }
        check(ended, "calls did not come back: \(hung.joined(separator: "; "))")

        let all = calls.value
        print("calls: \(summary(all)); longest \(all.map { $0.ended - $0.started }.max() ?? .zero)")
        let unexpected = all.filter { ![200, 502, 503, 504].contains($0.status) }
        check(unexpected.isEmpty, "statuses other than 200/502/503/504: \(summary(unexpected))")
        let wrong = all.filter { $0.status == 200 && $0.text != "Hello, load \($0.loop)!\n" }
        check(wrong.isEmpty, "200 with a wrong body: \(wrong.prefix(3).map(\.text))")
        let slow = all.filter { $0.ended - $0.started > .seconds(45) }
        check(slow.isEmpty, "calls took longer than 45 s: \(slow.map { $0.ended - $0.started })")

        // The containers the restart killed are removed once the engine is back, not only at the shutdown.
        let mine = ["\(DockerDriver.instanceLabel)=\(instance)"]
        let cleaned = try await eventually(within: .seconds(20)) {
            try await docker.listContainers(labels: mine).allSatisfy { $0.State == "running" }
        }
        let dead = try await docker.listContainers(labels: mine).filter { $0.State != "running" }
        let deadAndRemovable = try await removable(dead, by: docker)
        check(cleaned || deadAndRemovable.isEmpty, "dead containers stay in the engine while fnrt runs: \(deadAndRemovable.map { "\($0.Id.prefix(12)) \($0.State ?? "")" })")

        // A shutdown leaves nothing behind in the engine, even containers the outage killed.
        await scheduler.shutdown()
        let left = try await removable(try await docker.listContainers(labels: mine), by: docker)
        check(left.isEmpty, "containers left after the shutdown: \(left.map { "\($0.Id.prefix(12)) \($0.State ?? "")" })")
    }

    /// `containers` but those the engine itself refuses to remove: a
    /// container being started as dockerd stopped can keep its overlay
    /// mounted in the host's mount namespace after the restart, and every
    /// removal then fails with `device or resource busy` (dockerd's doing;
    /// seen once in CI; the mount stays until someone unmounts it). Each is
    /// asked for once more here, and kept in the answer unless the engine
    /// says exactly that.
    private func removable(_ containers: [ContainerSummary], by docker: DockerClient) async throws -> [ContainerSummary] {
        var kept: [ContainerSummary] = []
        for container in containers {
            do { try await docker.removeContainer(container.Id) } catch let DockerError.api(_, _, _, message) where message.contains("device or resource busy") {
                print("the engine refuses to remove \(container.Id.prefix(12)): \(message)")
                refusedByEngine.update { $0 += 1 }
                continue
            }
            kept.append(container)
        }
        return kept
    }

    /// Counts by status, and the first few failure reasons.
    private func summary(_ calls: [Call]) -> String {
        let counts = Dictionary(grouping: calls, by: \.status).mapValues(\.count).sorted { $0.key < $1.key }
        let reasons = Set(calls.filter { $0.status != 200 }.map { "\($0.status) \($0.text.prefix(160).trimmingCharacters(in: .whitespacesAndNewlines))" })
        return "\(calls.count) calls \(counts.map { "\($0.key): \($0.value)" }.joined(separator: ", "))"
            + (reasons.isEmpty ? "" : "; " + reasons.prefix(5).joined(separator: " | "))
    }
}
