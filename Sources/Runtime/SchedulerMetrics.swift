import CoreMetrics
import Foundation

/// The scheduler's metrics, through swift-metrics (any backend: Prometheus,
/// StatsD, OpenTelemetry...). Labels:
/// - `fnrt_calls_total{function, outcome, start}`: outcome `ok`, `function_error`
///   (the function's own 4xx/5xx, 502 or 504), `timeout`, `broken`, `start_failure`,
///   `unavailable` (503); start `cold` or `warm`
/// - `fnrt_queue_wait_seconds{function}`, `fnrt_startup_seconds{function}`,
///   `fnrt_call_seconds{function}`: timers
/// - `fnrt_hot_containers{function}`: gauge of idle + busy containers
/// - `fnrt_evictions_total`, `fnrt_start_failures_total{function}`
/// Metric objects are made once per function, not per call.
struct SchedulerMetrics {
    let factory: any MetricsFactory
    let evictions: Counter

    init(factory: any MetricsFactory) {
        self.factory = factory
        evictions = Counter(label: "fnrt_evictions_total", dimensions: [], factory: factory)
    }

    /// One function's metric objects. Its own counts (`addHot`, `countCall`)
    /// change only under the scheduler's lock.
    final class Function {
        let name: String
        let factory: any MetricsFactory
        let queueWait: CoreMetrics.Timer
        let startup: CoreMetrics.Timer
        let call: CoreMetrics.Timer
        let hot: Gauge
        let startFailures: Counter
        /// Hot containers of all this function's pools.
        private var hotCount = 0

        /// Adds `delta` hot containers (a pool's change) and publishes the total.
        func addHot(_ delta: Int) {
            hotCount += delta
            hot.record(hotCount)
        }

        /// `fnrt_calls_total` per outcome and start, made on first use.
        private var calls: [Counter?] = Array(repeating: nil, count: 2 * Outcome.allCases.count)

        init(name: String, factory: any MetricsFactory) {
            self.name = name
            self.factory = factory
            let dimensions = [("function", name)]
            queueWait = CoreMetrics.Timer(label: "fnrt_queue_wait_seconds", dimensions: dimensions, factory: factory)
            startup = CoreMetrics.Timer(label: "fnrt_startup_seconds", dimensions: dimensions, factory: factory)
            call = CoreMetrics.Timer(label: "fnrt_call_seconds", dimensions: dimensions, factory: factory)
            hot = Gauge(label: "fnrt_hot_containers", dimensions: dimensions, factory: factory)
            startFailures = Counter(label: "fnrt_start_failures_total", dimensions: dimensions, factory: factory)
        }

        func countCall(outcome: Outcome, cold: Bool) {
            let index = 2 * outcome.rawValue + (cold ? 1 : 0)
            if let counter = calls[index] { return counter.increment() }
            let made = Counter(label: "fnrt_calls_total",
                               dimensions: [("function", name), ("outcome", "\(outcome)"), ("start", cold ? "cold" : "warm")], factory: factory)
            calls[index] = made
            made.increment()
        }

        /// The `outcome` label of `fnrt_calls_total`.
        enum Outcome: Int, CaseIterable, CustomStringConvertible {
            case ok, functionError, timeout, broken, startFailure, unavailable
            var description: String {
                switch self {
                case .ok: "ok"
                case .functionError: "function_error"
                case .timeout: "timeout"
                case .broken: "broken"
                case .startFailure: "start_failure"
                case .unavailable: "unavailable"
                }
            }
        }
    }
}
