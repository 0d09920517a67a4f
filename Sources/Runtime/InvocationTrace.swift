import Foundation
import ImageStore
import Synchronization

/// Records every call as one JSON line (time, app, function, cold or warm,
/// wait, duration, memory, status): the input of `fnrt tune`. Lines are
/// made by hand and written in batches (`BatchedWriter`: 64 KiB, or within
/// 100 ms): a `JSONEncoder` and a write(2) per call cost about 7 µs of every
/// call's CPU, with tracing on by default. The file is rotated to
/// `<path>.1` when it passes `maxBytes`.
public final class InvocationTrace: Sendable {
    public struct Entry: Codable, Sendable {
        /// Seconds since 1970.
        public var time: Double
        public var app: String
        public var function: String
        public var cold: Bool
        public var waitMS: Double
        public var durationMS: Double
        public var memoryMB: Int
        public var status: Int

        public init(time: Double = Date().timeIntervalSince1970, app: String, function: String, cold: Bool, waitMS: Double,
                    durationMS: Double, memoryMB: Int, status: Int) {
            self.time = time
            self.app = app
            self.function = function
            self.cold = cold
            self.waitMS = waitMS
            self.durationMS = durationMS
            self.memoryMB = memoryMB
            self.status = status
        }
    }

    public let path: String
    public let maxBytes: Int
    private let file: TraceFile
    private let batches: BatchedWriter

    public init(path: String, maxBytes: Int = 64 << 20) throws {
        self.path = path
        self.maxBytes = maxBytes
        let file = try TraceFile(path: path, maxBytes: maxBytes)
        self.file = file
        // Four times the log's batch: a quarter of the writer's wake-ups (a dispatch thread each).
        batches = BatchedWriter(batchBytes: 64 << 10) { file.write($0) }
    }

    deinit { batches.flush() }

    /// Appends an entry; a write error drops it (tracing never fails a call).
    public func record(_ entry: Entry) {
        batches.append { Self.appendLine(entry, to: &$0) }
    }

    /// Writes the entries that wait (at the end of a run; otherwise within 100 ms).
    public func flush() { batches.flush() }

    /// Reads a trace file back.
    public static func read(_ path: String) throws -> [Entry] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(Entry.self, from: Data($0)) }
    }

    /// `entry` as one line of JSON, in the order of `Entry`'s fields: times
    /// to the microsecond, made with integer arithmetic (a `Double`'s own
    /// description took a third of the line's cost).
    static func appendLine(_ entry: Entry, to bytes: inout [UInt8]) {
        append(#"{"time":"#, to: &bytes)
        appendFixed(entry.time, decimals: 6, to: &bytes)
        append(#","app":"#, to: &bytes)
        appendString(entry.app, to: &bytes)
        append(#","function":"#, to: &bytes)
        appendString(entry.function, to: &bytes)
        append(entry.cold ? #","cold":true,"waitMS":"# : #","cold":false,"waitMS":"#, to: &bytes)
        appendFixed(entry.waitMS, decimals: 3, to: &bytes)
        append(#","durationMS":"#, to: &bytes)
        appendFixed(entry.durationMS, decimals: 3, to: &bytes)
        append(#","memoryMB":"#, to: &bytes)
        appendDecimal(entry.memoryMB, to: &bytes)
        append(#","status":"#, to: &bytes)
        appendDecimal(entry.status, to: &bytes)
        append("}\n", to: &bytes)
    }

    private static func append(_ text: StaticString, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// `value` with `decimals` digits after the point (trailing zeros kept:
    /// still a JSON number); a value out of that range as Swift writes it.
    static func appendFixed(_ value: Double, decimals: Int, to bytes: inout [UInt8]) {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        guard value >= 0, value * scale < 9e15 else {
            return bytes.append(contentsOf: (value.isFinite ? "\(value)" : "0").utf8)
        }
        let scaled = UInt((value * scale).rounded()), unit = UInt(scale)
        appendDecimal(Int(scaled / unit), to: &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDigits(scaled % unit, from: unit / 10, to: &bytes)
    }

    /// An integer's decimal digits, with a sign when negative.
    static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var divisor: UInt = 1
        while value.magnitude / divisor >= 10 { divisor *= 10 }
        appendDigits(value.magnitude, from: divisor, to: &bytes)
    }

    /// The digits of `value` from `divisor`'s place down, leading zeros included.
    private static func appendDigits(_ value: UInt, from divisor: UInt, to bytes: inout [UInt8]) {
        var value = value, divisor = divisor
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / divisor))
            value %= divisor
            divisor /= 10
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped.
    static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// The trace's open file and its size, rotated when a batch would pass
/// `maxBytes`. `@unchecked Sendable`: written only by its `BatchedWriter`'s
/// output, which runs one at a time.
private final class TraceFile: @unchecked Sendable {
    let path: String
    let maxBytes: Int
    private var fd: Int32 = -1
    private var size = 0

    init(path: String, maxBytes: Int) throws {
        self.path = path
        self.maxBytes = maxBytes
        try open()
    }

    deinit { if fd >= 0 { close(fd) } }

    private func open() throws {
        fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io(path: path, operation: "open the invocation trace", errno: errno) }
        var st = stat()
        fstat(fd, &st)
        size = Int(st.st_size)
    }

    func write(_ bytes: UnsafeRawBufferPointer) {
        if size > 0, size + bytes.count > maxBytes, fd >= 0 {
            close(fd)
            rename(path, path + ".1")
            try? open()
        }
        guard fd >= 0 else { return }
        if BatchedWriter.writeAll(bytes, to: fd) { size += bytes.count }
    }
}
