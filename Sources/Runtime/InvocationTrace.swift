import Foundation
import ImageStore
import Synchronization

/// Records every call as one JSON line (time, app, function, cold or warm,
/// wait, duration, memory, status): the input of `fnrt tune`. Lines are
/// made by hand and written in batches (`BatchedWriter`: 16 KiB, or within
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
        batches = BatchedWriter { file.write($0) }
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

    /// `entry` as one line of JSON, in the order of `Entry`'s fields.
    static func appendLine(_ entry: Entry, to bytes: inout [UInt8]) {
        func number(_ key: StaticString, _ value: Double) {
            appendKey(key, to: &bytes)
            bytes.append(contentsOf: (value.isFinite ? "\(value)" : "0").utf8)
        }
        func integer(_ key: StaticString, _ value: Int) {
            appendKey(key, to: &bytes)
            bytes.append(contentsOf: String(value).utf8)
        }
        bytes.append(UInt8(ascii: "{"))
        number("time", entry.time)
        appendKey("app", to: &bytes)
        appendString(entry.app, to: &bytes)
        appendKey("function", to: &bytes)
        appendString(entry.function, to: &bytes)
        appendKey("cold", to: &bytes)
        bytes.append(contentsOf: (entry.cold ? "true" : "false").utf8)
        number("waitMS", entry.waitMS)
        number("durationMS", entry.durationMS)
        integer("memoryMB", entry.memoryMB)
        integer("status", entry.status)
        bytes.append(contentsOf: "}\n".utf8)
    }

    /// `"key":`, after a comma unless it is the first.
    private static func appendKey(_ key: StaticString, to bytes: inout [UInt8]) {
        if bytes.last != UInt8(ascii: "{") { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        bytes.append(contentsOf: "\":".utf8)
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
