import Foundation
import ImageStore
import Synchronization

/// Records every call as one JSON line (time, app, function, cold or warm,
/// wait, duration, memory, status): the input of `fnrt tune`. The file is
/// rotated to `<path>.1` when it passes `maxBytes`.
public final class InvocationTrace: Sendable {
    public struct Entry: Codable, Sendable {
        /// Seconds since 1970.
        public var time: Double = Date().timeIntervalSince1970
        public var app: String
        public var function: String
        public var cold: Bool
        public var waitMS: Double
        public var durationMS: Double
        public var memoryMB: Int
        public var status: Int
    }

    public let path: String
    public let maxBytes: Int
    private let file = Mutex<(fd: Int32, size: Int)>((-1, 0))

    public init(path: String, maxBytes: Int = 64 << 20) throws {
        self.path = path
        self.maxBytes = maxBytes
        try file.withLock { try Self.open(path, into: &$0) }
    }

    deinit { file.withLock { if $0.fd >= 0 { close($0.fd) } } }

    private static func open(_ path: String, into state: inout (fd: Int32, size: Int)) throws {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io(path: path, operation: "open the invocation trace", errno: errno) }
        var st = stat()
        fstat(fd, &st)
        state = (fd, Int(st.st_size))
    }

    /// Appends an entry; a write error drops the entry (tracing never fails a call).
    public func record(_ entry: Entry) {
        guard var line = try? JSONEncoder().encode(entry) else { return }
        line.append(UInt8(ascii: "\n"))
        file.withLock { state in
            if state.size + line.count > maxBytes, state.fd >= 0 {
                close(state.fd)
                rename(path, path + ".1")
                try? Self.open(path, into: &state)
            }
            guard state.fd >= 0 else { return }
            let written = line.withUnsafeBytes { write(state.fd, $0.baseAddress, $0.count) }
            if written > 0 { state.size += written }
        }
    }

    /// Reads a trace file back.
    public static func read(_ path: String) throws -> [Entry] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(Entry.self, from: Data($0)) }
    }
}
