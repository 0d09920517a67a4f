import Dispatch
import Foundation
import Runtime
import Synchronization

/// While `fnrt run` runs: SIGINT (Ctrl-C), SIGTERM or SIGHUP removes the
/// run's containers (killed, then removed), then ends the process as the
/// signal would have. Without it an interrupted run left its container
/// running until the next `fnrt serve` on the same home removed it.
final class InterruptCleanup {
    private static let signals = [SIGINT, SIGTERM, SIGHUP]
    private let sources: [any DispatchSourceSignal]
    private let interrupted = Flag()

    /// Set once, by the first signal.
    private final class Flag: Sendable {
        let value = Atomic(false)
    }

    init(removing driver: any ContainerDriver) {
        let interrupted = self.interrupted
        sources = Self.signals.map { (number: Int32) -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [interrupted] in
                guard !interrupted.value.exchange(true, ordering: .acquiringAndReleasing) else { return }
                // Whatever becomes of the cleanup, the process ends within 10 s.
                DispatchQueue.global().asyncAfter(deadline: .now() + 10) { InterruptCleanup.end(by: number) }
                Task {
                    await InterruptCleanup.removeAll(of: driver)
                    InterruptCleanup.end(by: number)
                }
            }
            source.resume()
            return source
        }
    }

    /// Kills and removes the driver's containers, and looks again every
    /// 300 ms until two looks in a row find none (for 8 s at most): a
    /// container whose runtime was starting as the signal came is not
    /// listed yet (crun writes its state once it has set the container up),
    /// and a removal can fail once. One pass left such a container running.
    static func removeAll(of driver: any ContainerDriver) async {
        let deadline = ContinuousClock.now + .seconds(8)
        var emptyLooks = 0
        while ContinuousClock.now < deadline {
            let containers = (try? await driver.list()) ?? []
            emptyLooks = containers.isEmpty ? emptyLooks + 1 : 0
            if emptyLooks == 2 { return }
            for container in containers {
                try? await driver.kill(container)
                try? await driver.remove(container)
            }
            try? await Task.sleep(for: .milliseconds(300))
        }
    }

    /// Ends the process as the signal `number` would. libdispatch reads
    /// signals through a signalfd, with them blocked: sent again with
    /// `kill`, the signal went back to the dispatch source, and fnrt lived on.
    /// So: its default action, unblocked on this thread, raised here.
    static func end(by number: Int32) -> Never {
        signal(number, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, number)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(number)
        exit(128 + number)
    }

    /// Runs the run. When a signal came meanwhile, what it returns or
    /// throws (the call cut short) is not reported: the cleanup ends the process.
    func guarding<T>(_ body: () async throws -> T) async throws -> T {
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        while interrupted.value.load(ordering: .acquiring) { try? await Task.sleep(for: .seconds(1)) }
        for source in sources { source.cancel() }
        for number in Self.signals { signal(number, SIG_DFL) }
        return try result.get()
    }
}
