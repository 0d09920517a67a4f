import Foundation

/// An HTTP request as the registry client makes it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [(name: String, value: String)]
    public var body: HTTPBody?

    public init(method: String = "GET", url: URL, headers: [(name: String, value: String)] = [], body: HTTPBody? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    public mutating func setHeader(_ name: String, _ value: String?) {
        headers.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
        if let value { headers.append((name, value)) }
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// A request body: bytes in memory, a range of an open file, or everything
/// read from a descriptor until end of file (sent chunked); never loaded whole.
public enum HTTPBody: Sendable {
    case data(Data)
    case file(descriptor: Int32, offset: Int64, length: Int64)
    case stream(descriptor: Int32)

    /// The length, or -1 when unknown.
    public var length: Int64 {
        switch self {
        case .data(let d): Int64(d.count)
        case .file(_, _, let length): length
        case .stream: -1
        }
    }
}

/// A response's status line and headers.
public struct HTTPResponseHead: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]

    public init(status: Int, headers: [(name: String, value: String)]) {
        self.status = status
        self.headers = headers
    }

    public func header(_ name: String) -> String? {
        headers.last { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// All values of a header that may repeat (`WWW-Authenticate`).
    public func headers(_ name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// Receives a response as it arrives. A transport calls `begin` once, before
/// any body bytes, then `write` for each chunk, from one thread at a time.
public protocol ResponseSink: AnyObject, Sendable {
    /// Return false to abort the transfer.
    func begin(_ head: HTTPResponseHead) -> Bool
    /// Return false to abort the transfer.
    func write(_ chunk: UnsafeRawBufferPointer) -> Bool
}

/// Moves HTTP requests: the I/O boundary of the registry client.
public protocol HTTPTransport: Sendable {
    /// Performs `request`, streaming the response into `sink`; returns the
    /// response head. Throws `TransportError` when no complete response came.
    func perform(_ request: HTTPRequest, sink: any ResponseSink) async throws -> HTTPResponseHead
}

/// A transfer that failed below HTTP: connection refused, reset, timed out, cut short.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    /// libcurl's code (`CURLcode`), or -1.
    public var code: Int
    public var message: String
    public var url: String
    /// True when trying again may succeed (connection failures, resets, cut transfers).
    public var isTransient: Bool
    /// True when the sink asked to stop.
    public var abortedBySink: Bool

    public init(code: Int, message: String, url: String, isTransient: Bool, abortedBySink: Bool = false) {
        self.code = code
        self.message = message
        self.url = url
        self.isTransient = isTransient
        self.abortedBySink = abortedBySink
    }

    public var description: String { "\(url): \(message)" }
}

/// Collects a response body in memory, up to a limit.
public final class BufferSink: ResponseSink, @unchecked Sendable {
    // Unchecked: a transport drives one sink from one thread at a time, and
    // the caller reads it only after `perform` returns.
    public let limit: Int
    public private(set) var data = Data()
    public private(set) var exceeded = false

    public init(limit: Int) { self.limit = limit }

    public func begin(_ head: HTTPResponseHead) -> Bool { true }

    public func write(_ chunk: UnsafeRawBufferPointer) -> Bool {
        guard data.count + chunk.count <= limit else { exceeded = true; return false }
        data.append(contentsOf: chunk)
        return true
    }
}
