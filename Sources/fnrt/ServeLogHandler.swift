import Foundation
import Logging
import Synchronization

/// `fnrt serve`'s log lines on standard error, in swift-log's
/// `StreamLogHandler` format (`2026-11-26T02:40:00+0000 info fnrt: key=value
/// [Module] message`), made for one line per request: the time stamp is
/// formatted once a second (`StreamLogHandler` calls `localtime`, which looks
/// at the time zone file on every line), and lines are written together, as
/// nginx's `access_log ... buffer= flush=` does: when 16 KiB wait, at once
/// for a warning or worse (and what waits before it), within 100 ms
/// otherwise, and when `fnrt serve` ends (`flush()`); a crash loses at most
/// the last 100 ms of info lines. The access log cost about 37 µs of CPU per
/// request through `StreamLogHandler`, and a `write(2)` per line kept the
/// event loop busy enough to triple the gateway's p99 (Scripts/bench/gateway).
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
        let stamp = Self.clock.withLock { $0.now() }
        let all = metadata.isEmpty ? event.metadata ?? [:] : event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        let entries = all.sorted { $0.key < $1.key }
        // Straight into the bytes that wait: no line is made as a string first.
        let due = Self.pending.withLock { bytes in
            func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
            append(stamp)
            bytes.append(UInt8(ascii: " "))
            append(event.level.rawValue)
            if !label.isEmpty {
                bytes.append(UInt8(ascii: " "))
                append(label)
            }
            bytes.append(UInt8(ascii: ":"))
            for (key, value) in entries {
                bytes.append(UInt8(ascii: " "))
                append(key)
                bytes.append(UInt8(ascii: "="))
                append(value.description)
            }
            if let error = event.error { append(" error=\(error)") }
            append(" [")
            append(event.source)
            append("] ")
            append(event.message.description)
            bytes.append(UInt8(ascii: "\n"))
            return event.level >= .warning || bytes.count >= Self.batchBytes
        }
        if due { Self.flush() } else { Self.startFlusher }
    }

    /// Writes the lines that wait.
    static func flush() {
        pending.withLock { bytes in
            bytes.withUnsafeBytes { buffer in
                var written = 0
                while written < buffer.count {
                    let count = write(STDERR_FILENO, buffer.baseAddress! + written, buffer.count - written)
                    if count > 0 { written += count } else if count == 0 || errno != EINTR { break }
                }
            }
            bytes.removeAll(keepingCapacity: true)
        }
    }

    private static let batchBytes = 16 << 10
    private static let pending = Mutex<[UInt8]>({
        var bytes: [UInt8] = []
        bytes.reserveCapacity(batchBytes + 1024)
        return bytes
    }())
    /// A thread that writes what waits ten times a second, started by the first line that waits.
    private static let startFlusher: Void = Thread.detachNewThread {
        while true {
            usleep(100_000)
            flush()
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
