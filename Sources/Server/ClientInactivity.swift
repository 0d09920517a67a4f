import NIOCore

/// How a connection handler tells a client idle for `timeout`: a check every
/// half timeout, and two checks in a row that found no activity between
/// them, while the server waits for the client, mean it has been idle for at
/// least `timeout` (and at most one and a half times it). One repeating
/// task per connection, not a timer per request. Event-loop bound: used only
/// on its channel's loop.
struct ClientInactivity {
    let timeout: TimeAmount
    private var active = true
    private var idleChecks = 0
    private var task: RepeatedTask?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    var isRunning: Bool { task != nil }

    /// Bytes came, or an answer went.
    mutating func noteActivity() { active = true }

    /// Calls `check` on `loop` every half timeout until `stop`.
    mutating func start(on loop: any EventLoop, _ check: @escaping () -> Void) {
        let half = TimeAmount.nanoseconds(max(timeout.nanoseconds / 2, 1))
        let check = NIOLoopBound(check, eventLoop: loop)
        task = loop.scheduleRepeatedTask(initialDelay: half, delay: half) { _ in check.value() }
    }

    mutating func stop() {
        task?.cancel()
        task = nil
    }

    /// One check: true when the client is out of time. While the server
    /// is not waiting for the client (`waitingForClient` false: an answer is
    /// pending, the function's time), idle checks do not count.
    mutating func isOutOfTime(waitingForClient: Bool) -> Bool {
        if active || !waitingForClient {
            active = false
            idleChecks = 0
            return false
        }
        idleChecks += 1
        return idleChecks >= 2
    }
}
