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

/// Reads a text file line by line without loading it whole.
struct LineReader {
    let handle: FileHandle
    var buffer = Data()
    var finished = false
    private(set) var lineNumber = 0

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TraceError(file: path, line: 0, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        self.handle = handle
    }

    mutating func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                lineNumber += 1
                var text = String(decoding: line, as: UTF8.self)
                if text.hasSuffix("\r") { text.removeLast() }
                return text
            }
            if finished {
                guard !buffer.isEmpty else { return nil }
                let text = String(decoding: buffer, as: UTF8.self)
                buffer = Data()
                lineNumber += 1
                return text
            }
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { finished = true } else { buffer.append(chunk) }
        }
    }
}
