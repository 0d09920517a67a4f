import CLinux
import Foundation
import HTTP1Wire
import NIOCore
import NIOPosix
import Synchronization

/// A call to a function over its Unix socket.
public struct FDKRequest: Sendable {
    public var callID: String
    public var deadline: Date
    /// Headers of the call as the runtime sends them (`Fn-Http-Method` and
    /// `Fn-Http-Request-Url` included when it came through HTTP).
    public var headers: [(String, String)]
    /// The caller's headers, when the call came through an HTTP trigger:
    /// each is sent as `Fn-Http-H-<name>`, the prefix written as the call is
    /// encoded (a prefixed name made per header was a string allocated for
    /// most of them: over 15 bytes).
    public var clientHeaders: [(String, String)]
    public var body: ByteBuffer

    public init(callID: String = CallHeaders.newCallID(), deadline: Date, headers: [(String, String)] = [],
                clientHeaders: [(String, String)] = [], body: ByteBuffer) {
        self.callID = callID
        self.deadline = deadline
        self.headers = headers
        self.clientHeaders = clientHeaders
        self.body = body
    }
}

/// The FDK's raw answer.
public typealias FDKResponse = HTTP1Response

/// What a call came to, mapped as Fn does (shared/contracts/fn-fdk.md).
public enum CallOutcome: Sendable {
    /// The FDK answered 200: the function's response for the caller.
    case success(status: Int, headers: [(String, String)], body: ByteBuffer)
    /// The FDK answered 502 or 504: the function failed or timed out by itself. The container stays.
    case functionFailed(status: Int, body: ByteBuffer)
    /// Any other status: a broken container (502 to the caller; kill it).
    case invalidResponse(status: Int)
    /// The connection broke before a whole response (502; kill it).
    case receiveError(String)
    /// The call's timeout passed (504; kill it).
    case timedOut

    /// The HTTP status the caller gets.
    public var callerStatus: Int {
        switch self {
        case .success(let status, _, _): status
        case .functionFailed(let status, _): status
        case .invalidResponse, .receiveError: 502
        case .timedOut: 504
        }
    }

    /// True when the container must not take another call.
    public var containerIsBroken: Bool {
        switch self {
        case .success, .functionFailed: false
        case .invalidResponse, .receiveError, .timedOut: true
        }
    }

    /// Maps an FDK response: 200 is success (its `Fn-Http-Status` and
    /// `Fn-Http-H-*` become the caller's status and headers, `Content-Type`
    /// passes), 502/504 are the function's own failures, the rest is broken.
    public static func map(_ response: FDKResponse) -> CallOutcome {
        switch response.status {
        case 200:
            var status: Int?
            var headers: [(String, String)] = []
            headers.reserveCapacity(response.headers.count)
            for (name, value) in response.headers {
                if name.utf8.count == 14, equalIgnoringCase(name.utf8, "fn-http-status") {
                    // The first one counts; out of range, 200.
                    if status == nil { status = Int(value).flatMap { (200...599).contains($0) ? $0 : nil } ?? 200 }
                } else if name.utf8.count > 10, equalIgnoringCase(name.utf8.prefix(10), "fn-http-h-") {
                    headers.append((String(name.dropFirst("Fn-Http-H-".count)), value))
                } else if name.utf8.count == 12, equalIgnoringCase(name.utf8, "content-type") {
                    headers.append(("Content-Type", value))
                }
            }
            return .success(status: status ?? 200, headers: headers, body: response.body)
        case 502, 504:
            return .functionFailed(status: response.status, body: response.body)
        default:
            return .invalidResponse(status: response.status)
        }
    }
}

/// One persistent HTTP/1.1 connection to a function's socket, over SwiftNIO;
/// one call at a time, as the contract says.
public final class FDKConnection: Sendable {
    let channel: any Channel
    /// The connection's one handler, kept (a pipeline lookup by type per call was measurable).
    private let collector: NIOLoopBound<ResponseCollector>

    private init(channel: any Channel, collector: NIOLoopBound<ResponseCollector>) {
        self.channel = channel
        self.collector = collector
    }

    /// Connects to `socketPath`.
    public static func connect(socketPath: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> FDKConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
            .connect(unixDomainSocketPath: socketPath).get()
        return try await channel.eventLoop.submit {
            let collector = try channel.pipeline.syncOperations.handler(type: ResponseCollector.self)
            return FDKConnection(channel: channel, collector: NIOLoopBound(collector, eventLoop: channel.eventLoop))
        }.get()
    }

    /// Makes one call; the outcome, never a thrown error, so the caller maps it.
    public func call(_ request: FDKRequest, timeout: Duration) async -> CallOutcome {
        await withCheckedContinuation { continuation in
            call(request, timeout: timeout) { continuation.resume(returning: $0) }
        }
    }

    /// Makes one call and gives its outcome to `completion`, once, on the
    /// connection's event loop: the write, the timeout and its cancellation
    /// all happen there, with no thread woken for them (none at all when
    /// called on that loop, as the gateway's warm path does), and no future
    /// is made (four of them per request were measurable). A timeout or a
    /// broken connection closes it.
    public func call(_ request: FDKRequest, timeout: Duration, completion: @escaping @Sendable (CallOutcome) -> Void) {
        if channel.eventLoop.inEventLoop {
            send(request, timeout: timeout, completion: completion)
        } else {
            channel.eventLoop.execute { self.send(request, timeout: timeout, completion: completion) }
        }
    }

    /// On the connection's loop.
    private func send(_ request: FDKRequest, timeout: Duration, completion: @escaping (CallOutcome) -> Void) {
        guard channel.isActive else { return completion(.receiveError(ConnectionClosed().description)) }
        let collector = self.collector.value
        var bytes = collector.written.take(capacity: 512 + request.body.readableBytes, allocator: channel.allocator)
        FDKRequestEncoder.encode(request, into: &bytes)
        collector.expect(completion, by: .now() + .nanoseconds(timeout.nanoseconds), on: channel.eventLoop)
        // No promise per write: a write that fails closes the connection, whose end gives
        // the call its outcome; one that finds it closed already is caught here.
        channel.writeAndFlush(bytes, promise: nil)
        collector.written.keep(bytes)
        if !channel.isActive { collector.fail(ConnectionClosed().description) }
    }

    /// The event loop the connection's I/O runs on.
    public var eventLoop: any EventLoop { channel.eventLoop }

    public func close() {
        channel.close(promise: nil)
    }

    /// Runs `body` once, on the connection's event loop, when the connection
    /// ends (the function went away, a call broke it, or `close()`), or soon
    /// if it has ended already; always in a task of its own, never inside
    /// the caller's or the closer's frame, so `body` may take a lock they
    /// hold. The scheduler learns here that a container is gone, rather than
    /// by asking each connection on every call (with many hot containers,
    /// each object read per call is a cache miss).
    public func onClose(_ body: @escaping @Sendable () -> Void) {
        let collector = self.collector
        channel.eventLoop.execute { collector.value.onClose(body) }
    }
}

/// A call's `Fn-Call-Id` and `Fn-Deadline` values, made without Foundation's
/// per-call costs on the warm path (`UUID()` opens /dev/urandom each time, a
/// date format style looks up the time zone; a new `ISO8601DateFormatter`
/// per call was once a quarter of the gateway's CPU).
public enum CallHeaders {
    /// A random (version 4) UUID as text (upper-case hex, as Foundation
    /// writes it). The random bytes come from the system 4 KiB at a time, so
    /// a call ID costs no system call (it cost two `getrandom` calls).
    public static func newCallID() -> String {
        var bytes = randomBytes.withLock { pool -> (UInt64, UInt64) in
            if pool.next + 16 > pool.bytes.count {
                pool.bytes.withUnsafeMutableBytes { buffer in
                    var filled = 0
                    while filled < buffer.count {
                        let count = clinux_getrandom(buffer.baseAddress! + filled, buffer.count - filled)
                        if count > 0 { filled += count } else if errno != EINTR { break }
                    }
                    // getrandom(2) never fails on Linux 3.17+; should it, the system generator fills the rest.
                    var generator = SystemRandomNumberGenerator()
                    while filled < buffer.count {
                        buffer[filled] = generator.next()
                        filled += 1
                    }
                }
                pool.next = 0
            }
            defer { pool.next += 16 }
            return pool.bytes.withUnsafeBytes { ($0.loadUnaligned(fromByteOffset: pool.next, as: UInt64.self),
                                                 $0.loadUnaligned(fromByteOffset: pool.next + 8, as: UInt64.self)) }
        }
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = raw[6] & 0x0F | 0x40  // version 4
            raw[8] = raw[8] & 0x3F | 0x80  // RFC 4122 variant
            let hex: StaticString = "0123456789ABCDEF"
            return hex.withUTF8Buffer { hex in
                String(unsafeUninitializedCapacity: 36) { text in
                    var at = 0
                    for index in 0..<16 {
                        if index == 4 || index == 6 || index == 8 || index == 10 { text[at] = UInt8(ascii: "-"); at += 1 }
                        text[at] = hex[Int(raw[index] >> 4)]
                        text[at + 1] = hex[Int(raw[index] & 0x0F)]
                        at += 2
                    }
                    return at
                }
            }
        }
    }

    private static let randomBytes = Mutex<(bytes: [UInt8], next: Int)>(([UInt8](repeating: 0, count: 4096), 4096))

    /// RFC 3339 in UTC with milliseconds, as Fn writes deadlines: `2026-11-25T21:04:05.123Z`.
    public static func deadline(_ date: Date) -> String {
        var text = ByteBuffer()
        writeDeadline(date, into: &text)
        return String(buffer: text)
    }

    /// `deadline(date)` written into `out`: the text up to the seconds is
    /// made once a second, and no string is made per call.
    static func writeDeadline(_ date: Date, into out: inout ByteBuffer) {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = milliseconds.quotientAndRemainder(dividingBy: 1000).quotient - (milliseconds % 1000 < 0 ? 1 : 0)
        let fraction = Int((milliseconds % 1000 + 1000) % 1000)
        let prefix = deadlinePrefix.withLock { cache in
            if cache.second != seconds {
                cache = (seconds, secondsText(time_t(seconds)))
            }
            return cache.text
        }
        out.writeString(prefix)
        out.writeInteger(UInt8(ascii: "0") + UInt8(fraction / 100))
        out.writeInteger(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        out.writeInteger(UInt8(ascii: "0") + UInt8(fraction % 10))
        out.writeInteger(UInt8(ascii: "Z"))
    }

    /// `2026-11-25T21:04:05.` for `seconds` since the epoch.
    private static func secondsText(_ seconds: time_t) -> String {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(digits(parts.tm_year + 1900, 4))-\(digits(parts.tm_mon + 1, 2))-\(digits(parts.tm_mday, 2))T"
            + "\(digits(parts.tm_hour, 2)):\(digits(parts.tm_min, 2)):\(digits(parts.tm_sec, 2))."
    }

    private static let deadlinePrefix = Mutex<(second: Int64, text: String)>((.min, ""))
}

struct ConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the function closed the connection before answering" }
}

/// Collects one response at a time and completes the pending call with its
/// outcome; past the call's deadline, or when the connection breaks, the
/// outcome says so and the connection is closed.
final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    /// Where the pending call's outcome goes.
    private var pending: ((CallOutcome) -> Void)?
    private var parser = HTTP1ResponseParser()
    /// The pending call's deadline.
    private var deadline: NIODeadline?
    /// One timer per connection, re-armed lazily: a call that ends in time
    /// cancels nothing, so a steady stream of calls schedules about one
    /// timer per timeout period instead of one per call.
    private var timer: (at: NIODeadline, task: Scheduled<Void>)?

    /// The call just sent, due by `deadline`: its outcome goes to `completion`.
    func expect(_ completion: @escaping (CallOutcome) -> Void, by deadline: NIODeadline, on loop: any EventLoop) {
        pending = completion
        self.deadline = deadline
        if let timer, timer.at <= deadline { return }
        timer?.task.cancel()
        arm(at: deadline, on: loop)
    }

    private func arm(at deadline: NIODeadline, on loop: any EventLoop) {
        let bound = NIOLoopBound(self, eventLoop: loop)
        timer = (deadline, loop.scheduleTask(deadline: deadline) { bound.value.timerFired(on: loop) })
    }

    private func timerFired(on loop: any EventLoop) {
        timer = nil
        guard pending != nil, let deadline else { return }
        if deadline <= .now() {
            complete(.timedOut)  // before the close, whose channelInactive would call it a broken connection
            context?.close(promise: nil)
        } else {
            arm(at: deadline, on: loop)
        }
    }

    /// This handler's context, for the timer to close the channel: held from
    /// `handlerAdded` to `handlerRemoved` (the pipeline removes its handlers
    /// when the channel closes). Not a weak reference to the channel: a
    /// weakly referenced object gets a side table, and every retain and
    /// release of it then takes the runtime's slow path (seen in profiles: a
    /// channel is retained several times per call).
    private var context: ChannelHandlerContext?
    /// The last call's buffer, for the next (written on the loop, by `FDKConnection.send`).
    var written = ReusedWriteBuffer()
    /// Run at the channel's end (`FDKConnection.onClose`).
    private var closeHandlers: [@Sendable () -> Void] = []
    private var ended = false

    func onClose(_ body: @escaping @Sendable () -> Void) {
        if ended { body() } else { closeHandlers.append(body) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    private func complete(_ outcome: CallOutcome) {
        guard let completion = pending else { return }
        pending = nil
        deadline = nil
        completion(outcome)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        do {
            // One call at a time: a response is the pending call's (one with no call pending is dropped).
            while let response = try parser.feed(&bytes) {  // takes the bytes; later calls go on with what it kept
                complete(CallOutcome.map(response))
            }
        } catch {
            complete(.receiveError("\(error)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended = true
        if !closeHandlers.isEmpty {
            // Later, on the loop: the close may come from a caller holding a lock a handler takes.
            let handlers = closeHandlers
            closeHandlers = []
            context.eventLoop.execute { handlers.forEach { $0() } }
        }
        // A body that ends with the connection is whole then.
        if let response = parser.end() { complete(CallOutcome.map(response)) }
        complete(.receiveError(ConnectionClosed().description))
        timer?.task.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        complete(.receiveError("\(error)"))
        context.close(promise: nil)
    }

    /// The pending call, if any, failed: `reason` is its outcome.
    func fail(_ reason: String) {
        complete(.receiveError(reason))
    }
}
