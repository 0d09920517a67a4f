import Foundation
import Logging
import Runtime
import Server
import Synchronization

/// `fnrt serve`'s log lines on standard error, in swift-log's
/// `StreamLogHandler` format (`2026-11-26T02:40:00+0000 info fnrt: key=value
/// [Module] message`), made for one line per request: the time stamp is
/// formatted once a second (`StreamLogHandler` calls `localtime`, which looks
/// at the time zone file on every line), and lines are written together, as
/// nginx's `access_log ... buffer= flush=` does (`BatchedWriter`): when
/// 16 KiB wait or within 100 ms; at once for a warning or worse (and what
/// waits before it), and when `fnrt serve` ends (`flush()`); a crash loses
/// at most the last 100 ms of info lines. The access log cost about 37 µs of CPU per
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
        Self.append(level: event.level) { bytes in
            Self.appendStart(of: event.level, label: label, stamp: stamp, to: &bytes)
            for (key, value) in entries { Self.appendField(key, value.description.utf8, to: &bytes) }
            if let error = event.error { Self.appendField("error", "\(error)".utf8, to: &bytes) }
            Self.appendSource(event.source, to: &bytes)
            bytes.append(contentsOf: event.message.description.utf8)
            bytes.append(UInt8(ascii: "\n"))
        }
    }

    /// The gateway's access lines, formatted as `log(event:)` formats
    /// `FnrtResponder.logAccess`'s, with no metadata dictionary, no sort and
    /// no string made per field.
    struct AccessLog: AccessLogWriter {
        func write(_ line: AccessLine, label: String) {
            let stamp = ServeLogHandler.clock.withLock { $0.now() }
            ServeLogHandler.append(level: .info) { bytes in
                ServeLogHandler.appendStart(of: .info, label: label, stamp: stamp, to: &bytes)
                ServeLogHandler.appendField("client", (line.client ?? "-").utf8, to: &bytes)
                ServeLogHandler.appendField("hb.request.id", hex(line.requestID.high, line.requestID.low), to: &bytes)
                ServeLogHandler.appendField("us", String(line.microseconds).utf8, to: &bytes)
                ServeLogHandler.appendSource("Server", to: &bytes)
                bytes.append(contentsOf: line.method.utf8)
                bytes.append(UInt8(ascii: " "))
                bytes.append(contentsOf: line.path.utf8)
                bytes.append(UInt8(ascii: " "))
                bytes.append(contentsOf: String(line.status).utf8)
                bytes.append(UInt8(ascii: "\n"))
            }
        }

        /// `high` then `low` as 32 lower-case hex digits, made as they are appended.
        private func hex(_ high: UInt64, _ low: UInt64) -> some Collection<UInt8> {
            (0..<32).lazy.map { index in
                let digit = UInt8(truncatingIfNeeded: (index < 16 ? high : low) >> UInt64(60 - 4 * (index % 16))) & 0x0F
                return digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
            }
        }
    }

    /// `<time> <level> <label>:`, the start of every line.
    private static func appendStart(of level: Logger.Level, label: String, stamp: String, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: stamp.utf8)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: level.rawValue.utf8)
        if !label.isEmpty {
            bytes.append(UInt8(ascii: " "))
            bytes.append(contentsOf: label.utf8)
        }
        bytes.append(UInt8(ascii: ":"))
    }

    /// ` <key>=<value>`, one metadata field.
    private static func appendField(_ key: String, _ value: some Sequence<UInt8>, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: key.utf8)
        bytes.append(UInt8(ascii: "="))
        bytes.append(contentsOf: value)
    }

    /// ` [<source>] `, before the message.
    private static func appendSource(_ source: String, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: " [".utf8)
        bytes.append(contentsOf: source.utf8)
        bytes.append(contentsOf: "] ".utf8)
    }

    /// Adds a line to those that wait (`BatchedWriter`: 16 KiB, or within
    /// 100 ms, written off the event loops: a write(2) once per ~130 requests
    /// on an event loop showed at p99). A warning or worse is written at once,
    /// with what waits before it.
    private static func append(level: Logger.Level, _ line: (inout [UInt8]) -> Void) {
        lines.append(line)
        if level >= .warning { flush() }
    }

    /// Writes the lines that wait.
    static func flush() { lines.flush() }

    private static let lines = BatchedWriter { BatchedWriter.writeAll($0, to: STDERR_FILENO) }

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
