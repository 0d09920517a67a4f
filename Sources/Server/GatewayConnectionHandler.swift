import Foundation
import Gateway
import HTTP1Wire
import HTTPTypes
import Logging
import NIOCore

/// The first handler of every HTTP/1 connection: it reads requests for the
/// gateway's deployments straight from the socket's bytes and answers them
/// on the event loop that read them (DESIGN.md's hot path): no HTTP codec
/// objects, no task, and with a warm container no thread hop.
///
/// The first request it does not serve (a server path such as `/v2` or
/// `/health`, a path no deployment has, or one `HTTP1RequestHead` leaves to
/// the general server: `HEAD`, a chunked body, `Expect`...) hands the
/// connection, from that request's first byte on, to the rest of the
/// pipeline, NIO's HTTP/1 server and Hummingbird, for good: answers keep the
/// order of requests, and a connection is never served by both at once.
///
/// One request at a time: bytes read while an answer is pending wait here
/// (and reading stops once some do, or while the client does not take its
/// answers), as do the client's half-close, after which what it sent is
/// answered, and a graceful shutdown's quiesce, after which the request in
/// progress is the last. A body over the deployment's limit is refused 413
/// at once and the connection closed; after `Connection: close`, nothing
/// more is read.
///
/// A client that sends nothing for `clientTimeout` (nothing of its next
/// request, or not the rest of one begun) loses its connection, with 408
/// when a request had begun, as nginx's `client_header_timeout`,
/// `client_body_timeout` and `keepalive_timeout` do: idle or slow clients
/// cannot hold every file descriptor. The time while an answer is pending is
/// the function's, and does not count.
final class GatewayConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    let gateway: Gateway
    /// The largest body read for any deployment.
    let maxBodyBytes: Int
    let serverName: String
    let logger: Logger
    let accessLog: (any AccessLogWriter)?

    private enum State {
        /// Reading a head, or waiting for bytes.
        case idle
        /// A head read; its body (`length` bytes) not all in yet.
        case awaitingBody(HTTP1RequestHead, DeploymentMatch, started: ContinuousClock.Instant)
        /// An answer pending.
        case answering
        /// Nothing more is served; the connection is closing.
        case closing
        /// The rest of the pipeline has the connection.
        case handedOff
    }

    private var state = State.idle
    /// Bytes read and not yet served.
    private var buffer: ByteBuffer?
    /// The client half-closed: what it sent is served, then the connection closes.
    private var inputClosed = false
    /// The server is shutting down: the request in progress is the last.
    private var quiescing = false
    private var readHeld = false
    /// True inside `serve`: an answer that completes at once lets its loop go on.
    private var serving = false
    private var date = HTTPDate()
    private var client: String??
    private var inactivity: ClientInactivity

    init(gateway: Gateway, maxBodyBytes: Int, serverName: String, logger: Logger, accessLog: (any AccessLogWriter)? = nil,
         clientTimeout: TimeAmount = .seconds(60)) {
        self.gateway = gateway
        self.maxBodyBytes = maxBodyBytes
        self.serverName = serverName
        self.logger = logger
        self.accessLog = accessLog
        inactivity = ClientInactivity(timeout: clientTimeout)
    }

    /// The client's inactivity is checked from here on (`ClientInactivity`),
    /// until the connection is handed off: the general server's own
    /// `HandedOffClientTimeout` checks it then.
    ///
    /// Reads are this handler's to ask for until it hands the connection
    /// off: with the channel's auto-read off, it asks for the next read
    /// itself (`channelReadComplete`), from its place at the head's end of
    /// the pipeline, and NIO's read request no longer passes every handler
    /// of the general server behind it on each read (about 3% of the
    /// gateway's user time).
    func handlerAdded(context: ChannelHandlerContext) {
        try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        if context.channel.isActive { context.read() }
        inactivity.start(on: context.eventLoop) { self.checkActivity(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        inactivity.stop()
    }

    private func checkActivity(context: ChannelHandlerContext) {
        switch state {
        case .closing, .handedOff:
            inactivity.stop()
        case .answering:
            _ = inactivity.isOutOfTime(waitingForClient: false)
        case .idle, .awaitingBody:
            if inactivity.isOutOfTime(waitingForClient: true) { timeOut(context: context) }
        }
    }

    /// The client was idle too long: a request begun gets 408, then the
    /// connection closes.
    private func timeOut(context: ChannelHandlerContext) {
        inactivity.stop()
        switch state {
        case .awaitingBody(let head, _, let started):
            let answer = FnrtResponder.requestTimeoutAnswer
            write(answer, closing: true, context: context)
            logAccess(method: head.method, path: head.path, status: answer.status, client: clientAddress(context), since: started)
        case .idle where (buffer?.readableBytes ?? 0) > 0:
            write(FnrtResponder.requestTimeoutAnswer, closing: true, context: context)
        default:
            close(context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inactivity.noteActivity()
        switch state {
        case .handedOff:
            context.fireChannelRead(data)
        case .closing:
            break
        case .idle, .awaitingBody, .answering:
            var bytes = unwrapInboundIn(data)
            if buffer == nil { buffer = bytes } else { buffer!.writeBuffer(&bytes) }
            serve(context: context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.read()  // the first read: auto-read is off
        context.fireChannelActive()
    }

    // The rest of the pipeline hears of reads only once it has the connection.
    func channelReadComplete(context: ChannelHandlerContext) {
        if case .handedOff = state { return context.fireChannelReadComplete() }
        read(context: context)  // the next read, unless held
    }

    /// Serves what the buffer holds, one request at a time.
    private func serve(context: ChannelHandlerContext) {
        serving = true
        defer { serving = false }
        while true {
            switch state {
            case .answering, .closing, .handedOff:
                return
            case .awaitingBody(let head, let match, let started):
                guard let bytes = buffer, bytes.readableBytes >= head.length + head.contentLength else {
                    // The rest of the body can come after a quiesce, not after the client's half-close.
                    return inputClosed ? close(context: context) : ()
                }
                answer(head, match: match, started: started, context: context)
            case .idle:
                guard let bytes = buffer, bytes.readableBytes > 0 else {
                    buffer = nil
                    return inputClosed || quiescing ? close(context: context) : ()
                }
                let parsed = bytes.withUnsafeReadableBytes { HTTP1RequestHead.parse($0) }
                switch parsed {
                case .incomplete:
                    return inputClosed || quiescing ? close(context: context) : ()
                case .unsupported:
                    return handOff(context: context)
                case .head(let head):
                    guard let match = deploymentMatch(for: head.path) else { return handOff(context: context) }
                    let started = ContinuousClock.now
                    if head.contentLength > min(maxBodyBytes, match.maxBodyBytes) {
                        return refuseTooLarge(head, started: started, context: context)
                    }
                    state = .awaitingBody(head, match, started: started)
                }
            }
        }
    }

    /// The deployment that serves `path`, nil for a server path or one no
    /// deployment has; the connection's last match when it still holds (a
    /// client usually asks one route again and again).
    private func deploymentMatch(for path: String) -> DeploymentMatch? {
        if let lastMatch, gateway.isCurrent(lastMatch, for: path) { return lastMatch }
        guard !FnrtResponder.isServerPath(path), let match = gateway.match(path: path) else { return nil }
        lastMatch = match
        return match
    }

    private var lastMatch: DeploymentMatch?

    /// Nothing more is served: the connection closes once `last` and the
    /// answers written before it are out.
    private func close(after last: ByteBuffer = ByteBuffer(), context: ChannelHandlerContext) {
        state = .closing
        buffer = nil
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(last))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// The rest of the pipeline takes the connection from the request at
    /// the buffer's start.
    private func handOff(context: ChannelHandlerContext) {
        state = .handedOff
        // NIO reads for the general server from now on.
        readHeld = false
        try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        if let bytes = buffer {
            buffer = nil
            context.fireChannelRead(wrapInboundOut(bytes))
            context.fireChannelReadComplete()
        }
        if inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
    }

    private func answer(_ head: HTTP1RequestHead, match: DeploymentMatch, started: ContinuousClock.Instant, context: ChannelHandlerContext) {
        state = .answering
        buffer!.moveReaderIndex(forwardBy: head.length)
        let body = buffer!.readSlice(length: head.contentLength)!
        if buffer!.readableBytes == 0 { buffer = nil }
        var request = GatewayRequest(method: head.method, path: head.path, query: head.query, headers: head.fields, body: body,
                                     clientAddress: clientAddress(context))
        request.authority = head.authority
        let closing = head.closing, method = head.method, path = head.path
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        match.handle(request, on: context.eventLoop) { response in
            let (handler, context) = loopBound.value
            let last = closing || handler.quiescing
            handler.inactivity.noteActivity()
            handler.write(response, closing: last, context: context)
            handler.logAccess(method: method, path: path, status: response.status, client: handler.clientAddress(context), since: started)
            if last { return }  // the write closes the connection
            handler.state = .idle
            // Answered at once (a refusal, a stock response): `serve`'s loop goes on.
            if handler.serving { return }
            handler.serve(context: context)
            handler.resumeReading(context: context)
        }
    }

    private func clientAddress(_ context: ChannelHandlerContext) -> String? {
        if let client { return client }
        let address = context.channel.remoteAddress?.ipAddress
        client = .some(address)
        return address
    }

    /// 413 before the body is read, then the connection closes (reading on
    /// would mean reading the whole body).
    private func refuseTooLarge(_ head: HTTP1RequestHead, started: ContinuousClock.Instant, context: ChannelHandlerContext) {
        let answer = FnrtResponder.tooLargeAnswer
        write(answer, closing: true, context: context)
        logAccess(method: head.method, path: head.path, status: answer.status, client: clientAddress(context), since: started)
    }

    /// The request's access line: through `accessLog` when there is one, else the logger.
    private func logAccess(method: HTTPRequest.Method, path: String, status: HTTPResponse.Status, client: String?,
                           since started: ContinuousClock.Instant) {
        guard let accessLog else {
            return FnrtResponder.logAccess(logger, method: method, path: path, status: status, client: client, since: started)
        }
        guard logger.logLevel <= .info else { return }
        accessLog.write(AccessLine(method: method.rawValue, path: path, status: status.code, client: client,
                                   microseconds: AccessLine.microseconds(since: started), requestID: AccessLine.nextRequestID()),
                        label: logger.label)
    }

    /// The response as HTTP/1.1 bytes, in one write: the status line, the
    /// response's fields (its own length, framing and hop-by-hop fields
    /// dropped: the whole body is here and the connection is this
    /// server's), `Content-Length` (none, and no body, for 1xx, 204 and
    /// 304), `Date`, `Server`, and `Connection: close` when the connection
    /// ends with it (it is then closed behind the answer).
    private func write(_ response: GatewayResponse, closing: Bool, context: ChannelHandlerContext) {
        let code = response.status.code
        let bodiless = code < 200 || code == 204 || code == 304
        var out = written.take(capacity: 256 + response.body.readableBytes, allocator: context.channel.allocator)
        out.writeStaticString("HTTP/1.1 ")
        out.writeString(String(code))
        out.writeStaticString(" ")
        out.writeString(response.status.reasonPhrase.isEmpty ? HTTP1ReasonPhrase.standard(code) : response.status.reasonPhrase)
        out.writeStaticString("\r\n")
        for field in response.headers where !isConnectionField(field.name.canonicalName) && field.name != .date && field.name != .server {
            out.writeString(field.name.rawName)
            out.writeStaticString(": ")
            out.writeString(field.value)
            out.writeStaticString("\r\n")
        }
        if !bodiless {
            out.writeStaticString("Content-Length: ")
            out.writeString(String(response.body.readableBytes))
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("Date: ")
        out.writeString(date.now())
        out.writeStaticString("\r\nServer: ")
        out.writeString(serverName)
        if closing { out.writeStaticString("\r\nConnection: close") }
        out.writeStaticString("\r\n\r\n")
        if !bodiless {
            var body = response.body
            out.writeBuffer(&body)
        }
        guard closing else {
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(out)), promise: nil)
            return written.keep(out)
        }
        close(after: out, context: context)
    }

    /// The last answer's buffer, for the next.
    private var written = ReusedWriteBuffer()

    func read(context: ChannelHandlerContext) {
        switch state {
        case .handedOff:
            context.read()
        case .closing:
            readHeld = true
        // A client that does not take its answers is not read from (what it
        // sends would pile up, and so would the answers).
        case .idle, .awaitingBody:
            if context.channel.isWritable { context.read() } else { readHeld = true }
        // Held only when the client sent more while an answer is pending
        // (pipelining): holding on every request would cost two epoll_ctl calls each.
        case .answering:
            if buffer == nil, context.channel.isWritable { context.read() } else { readHeld = true }
        }
    }

    private func resumeReading(context: ChannelHandlerContext) {
        guard readHeld else { return }
        readHeld = false
        read(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        inactivity.noteActivity()  // a client taking a large answer slowly is not idle; one that takes none is
        if case .handedOff = state {} else if context.channel.isWritable { resumeReading(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handedOff = state { return context.fireUserInboundEventTriggered(event) }
        if (event as? ChannelEvent) == .inputClosed {
            inputClosed = true
        } else if event is ChannelShouldQuiesceEvent {
            quiescing = true
            // Pipelined requests not yet begun are not served; one whose body is coming is.
            if case .answering = state { buffer = nil }
        } else {
            return context.fireUserInboundEventTriggered(event)
        }
        switch state {
        case .idle, .awaitingBody: serve(context: context)
        case .answering, .closing, .handedOff: break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard case .handedOff = state else {
            state = .closing
            buffer = nil
            return context.close(promise: nil)
        }
        context.fireErrorCaught(error)
    }
}

/// The `Date` header's value (RFC 9110's IMF-fixdate), made once a second.
struct HTTPDate {
    private var second = 0
    private var text = ""

    mutating func now() -> String {
        var seconds = time(nil)
        guard seconds != second else { return text }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"], months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        second = seconds
        text = "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
        return text
    }
}
