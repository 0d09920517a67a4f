import Tuning

/// One function's adaptive keep-alive (`idle_timeout: auto`): the hybrid
/// histogram policy's state, fed with the function's live idle times (the
/// time from the end of a call, with none other in flight, to the next
/// call), deciding how long idle containers stay and when to pre-warm one.
/// The same policy code `fnrt tune` simulates. Owned by the scheduler actor.
final class AdaptiveKeepAlive {
    let policy: HybridHistogram
    /// The keep-alive while the histogram is not representative.
    let fallback: Duration
    private var state: any KeepAliveState
    private var lastEnd: ContinuousClock.Instant?
    /// How long an idle container waits, as learned; nil: `fallback`.
    private var keepFor: Duration?
    /// After a pre-warm, how long the container waits for its call.
    private var afterPrewarm: Duration = .zero
    /// True between an unload and the pre-warmed container's arrival.
    var prewarmWanted = false
    /// Counts unloads: a pre-warm timer of an earlier unload does nothing.
    private(set) var unloads: UInt64 = 0

    init(policy: HybridHistogram, fallback: Duration) {
        self.policy = policy
        self.fallback = fallback
        state = policy.makeState()
    }

    /// A call arrived while `busy` others ran: an idle time is observed when the function was idle.
    func callArrived(at now: ContinuousClock.Instant, busy: Int) {
        prewarmWanted = false  // the call came first: whatever starts now is for it
        guard busy == 0, let lastEnd else { return }
        state.observe(idleTime: (now - lastEnd).seconds)
        self.lastEnd = nil
    }

    /// The function's last call in flight ended: returns when to pre-warm
    /// when the policy unloads containers until then, else nil (keep them).
    func callEnded(at now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        lastEnd = now
        let windows = state.windows()
        guard windows != Windows(prewarm: 0, keepAlive: policy.range) else {
            keepFor = nil  // not representative yet: the function's own idle timeout
            return nil
        }
        let keep = Duration.seconds(min(windows.keepAlive, 24 * 3600))
        keepFor = keep
        guard windows.prewarm > 0 else { return nil }
        let prewarm = Duration.seconds(windows.prewarm)
        afterPrewarm = max(keep - prewarm, .seconds(1))
        prewarmWanted = true
        unloads += 1
        return now + prewarm
    }

    /// When a container that becomes idle `now` is stopped.
    func expiry(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        if prewarmWanted {
            prewarmWanted = false
            return now + afterPrewarm
        }
        return now + (keepFor ?? fallback)
    }
}

