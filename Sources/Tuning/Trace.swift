import Foundation

/// A function in a trace: owner (or app owner), app and function names.
public struct FunctionKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var owner: String
    public var app: String
    public var function: String

    public init(owner: String = "", app: String, function: String) {
        self.owner = owner
        self.app = app
        self.function = function
    }

    public var description: String { "\(app)/\(function)" }
    public static func < (a: FunctionKey, b: FunctionKey) -> Bool { (a.owner, a.app, a.function) < (b.owner, b.app, b.function) }
}

/// Invocations that start together: `count` calls at `time` (seconds from the
/// trace's start), each running `duration` seconds (they share one container).
public struct Arrival: Equatable, Sendable {
    public var time: Double
    public var count: Int
    public var duration: Double

    public init(time: Double, count: Int = 1, duration: Double = 0) {
        self.time = time
        self.count = count
        self.duration = duration
    }
}

/// One function's calls over the trace, in time order.
public struct FunctionTrace: Sendable {
    public var key: FunctionKey
    public var arrivals: [Arrival]
    /// Memory of the function's container, in MB.
    public var memoryMB: Double

    public init(key: FunctionKey, arrivals: [Arrival], memoryMB: Double = 128) {
        self.key = key
        self.arrivals = arrivals
        self.memoryMB = memoryMB
    }

    public var invocations: Int { arrivals.reduce(0) { $0 + $1.count } }
}

/// A malformed line of a trace, with its line number.
public struct TraceError: Error, Sendable, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int
    public var reason: String

    public init(file: String, line: Int, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(file):\(line): \(reason)" }
}

/// Reads a text file line by line without loading it whole: 1 MiB reads, a
/// moving offset into the buffer (no copying of what remains per line).
struct LineReader {
    let handle: FileHandle
    var buffer: [UInt8] = []
    var position = 0
    var finished = false
    private(set) var lineNumber = 0

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TraceError(file: path, line: 0, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        self.handle = handle
    }

    /// The next line's bytes, without its line break.
    mutating func nextBytes() -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[position...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > position, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = buffer[position..<end]
                position = newline + 1
                lineNumber += 1
                return line
            }
            if finished {
                guard position < buffer.count else { return nil }
                let line = buffer[position...]
                position = buffer.count
                lineNumber += 1
                return line
            }
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty {
                finished = true
            } else {
                buffer.removeFirst(position)  // once per read, not per line
                position = 0
                buffer.append(contentsOf: chunk)
            }
        }
    }

    mutating func next() -> String? { nextBytes().map { String(decoding: $0, as: UTF8.self) } }
}
