import Foundation
import Logging
import Synchronization

/// `fnrt serve`'s log lines on standard error, in swift-log's
/// `StreamLogHandler` format (`2026-11-26T02:40:00+0000 info fnrt: key=value
/// [Module] message`), made for one line per request: the time stamp is
/// formatted once a second (`StreamLogHandler` calls `localtime`, which looks
/// at the time zone file on every line), and each line is one `write(2)`
/// with no stdio lock or flush. The access log cost about 37 µs of CPU per
/// request through `StreamLogHandler` (Scripts/bench/gateway).
struct ServeLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = Self.clock.withLock { $0.now() }
        line += label.isEmpty ? " \(event.level):" : " \(event.level) \(label):"
        let all = metadata.isEmpty ? event.metadata ?? [:] : event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        for key in all.keys.sorted() { line += " \(key)=\(all[key]!)" }
        if let error = event.error { line += " error=\(error)" }
        line += " [\(event.source)] \(event.message)\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var written = 0
            while written < buffer.count {
                let count = write(STDERR_FILENO, buffer.baseAddress! + written, buffer.count - written)
                if count > 0 { written += count } else if count == 0 || errno != EINTR { return }
            }
        }
    }

    /// The local time stamp, remade when the second changes.
    struct Clock {
        private var second = time_t(-1)
        private var text = ""

        mutating func now() -> String {
            var seconds = time(nil)
            guard seconds != second else { return text }
            var parts = tm()
            localtime_r(&seconds, &parts)
            var buffer = [CChar](repeating: 0, count: 64)
            strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
            second = seconds
            text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return text
        }
    }

    private static let clock: Mutex<Clock> = {
        tzset()  // once: localtime_r does not look at the time zone again
        return Mutex(Clock())
    }()
}
