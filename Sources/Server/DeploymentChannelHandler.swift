import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes

/// Serves requests for the gateway's deployments on the event loop that read
/// them, in the HTTP server's pipeline ahead of Hummingbird: a warm function
/// route is answered with no task and no thread hop (DESIGN.md's hot path).
/// Everything else (`/v2`, `/invoke`, `/t`, `/metrics`, `/health`) passes on
/// to Hummingbird's responder, as do requests pipelined behind one of those,
/// so answers keep the order of requests.
///
/// One request at a time: while a deployment's answer is pending, parts
/// read meanwhile wait here (and reading stops once some do), and so do the
/// events that would end the connection before the answer (the client's
/// half-close, an error, a graceful shutdown's quiesce). A body over the
/// limit is answered 413 at once and the connection closed; after an answer
/// with `Connection: close`, nothing more is read.
final class DeploymentChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let gateway: Gateway
    /// The largest body read for any deployment.
    let maxBodyBytes: Int
    let serverName: String
    let logger: Logger

    private enum State {
        case idle
        /// A deployment's request being read (its body in `body`), its target
        /// split once into path and query.
        case collecting(head: HTTPRequest, target: Target, match: DeploymentMatch, started: ContinuousClock.Instant)
        /// Its answer pending.
        case answering
        /// The connection is closing: nothing more is served.
        case closing
    }

    /// A request target: the path, and the query after `?` if any.
    private struct Target {
        let path: String
        let query: String?

        init(_ target: String) {
            let mark = target.firstIndex(of: "?")
            path = mark.map { String(target[..<$0]) } ?? target
            query = mark.map { String(target[target.index(after: $0)...]) }
        }
    }

    /// An inbound event held while an answer is pending.
    private enum Held {
        case event(Any)
        case error(any Error)
    }

    private var state = State.idle
    /// The body of the request being collected: a property of its own, so
    /// that appending to it never copies it.
    private var body: ByteBuffer?
    /// Requests handed on to Hummingbird whose response has not ended yet.
    private var forwarded = 0
    /// Parts read while an answer was pending, served after it.
    private var pending: [HTTPRequestPart] = []
    private var held: [Held] = []
    private var readHeld = false
    private var date = HTTPDate()

    init(gateway: Gateway, maxBodyBytes: Int, serverName: String, logger: Logger) {
        self.gateway = gateway
        self.maxBodyBytes = maxBodyBytes
        self.serverName = serverName
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        read(unwrapInboundIn(data), context: context)
    }

    private func read(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.closing, _):
            break
        case (.answering, _):
            pending.append(part)
        case (.idle, .head(let head)):
            if forwarded == 0, let path = head.path, !FnrtResponder.isServerPath(path),
               case let target = Target(path), let match = gateway.match(path: target.path) {
                let started = ContinuousClock.now
                if (head.headerFields[.contentLength].flatMap { Int($0) } ?? 0) > limit(match) {
                    return refuseTooLarge(head, path: target.path, started: started, context: context)
                }
                state = .collecting(head: head, target: target, match: match, started: started)
                body = nil
            } else {
                forwarded += 1
                context.fireChannelRead(wrapInboundOut(part))
            }
        case (.idle, _):
            context.fireChannelRead(wrapInboundOut(part))
        case (.collecting(let head, let target, let match, let started), .body(var chunk)):
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
            if body!.readableBytes > limit(match) {
                body = nil
                refuseTooLarge(head, path: target.path, started: started, context: context)
            }
        case (.collecting(let head, let target, let match, let started), .end):
            state = .answering
            let request = body ?? ByteBuffer()
            body = nil
            answer(head, target: target, match: match, body: request, started: started, context: context)
        case (.collecting, .head):
            // A head before the last one ended: the decoder never does this.
            state = .closing
            context.close(promise: nil)
        }
    }

    private func limit(_ match: DeploymentMatch) -> Int { min(maxBodyBytes, match.maxBodyBytes) }

    /// 413 before the rest of the body is read, then the connection closes
    /// (reading on would mean reading the whole body).
    private func refuseTooLarge(_ head: HTTPRequest, path: String, started: ContinuousClock.Instant, context: ChannelHandlerContext) {
        state = .closing
        let client = context.channel.remoteAddress?.ipAddress
        write(FnrtResponder.tooLargeAnswer, closing: true, context: context)
        FnrtResponder.logAccess(logger, method: head.method, path: path, status: .contentTooLarge,
                                client: client, since: started)
    }

    private func answer(_ head: HTTPRequest, target: Target, match: DeploymentMatch, body: ByteBuffer, started: ContinuousClock.Instant,
                        context: ChannelHandlerContext) {
        let client = context.channel.remoteAddress?.ipAddress
        var request = GatewayRequest(method: head.method, path: target.path, query: target.query, headers: head.headerFields,
                                     body: body, clientAddress: client)
        request.authority = head.authority
        let closing = Self.asksToClose(head), requestPath = target.path
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        match.handle(request, on: context.eventLoop).whenComplete { result in
            let (handler, context) = loopBound.value
            let response = (try? result.get()) ?? .error(.internalServerError, "no answer")
            handler.write(response, closing: closing, context: context)
            FnrtResponder.logAccess(handler.logger, method: head.method, path: requestPath, status: response.status,
                                    client: client, since: started)
            if closing { handler.state = .closing } else { handler.answered(context: context) }
        }
    }

    /// True when the client's `Connection` header has the `close` option.
    private static func asksToClose(_ head: HTTPRequest) -> Bool {
        head.headerFields[values: .connection].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
        }
    }

    private func write(_ response: GatewayResponse, closing: Bool, context: ChannelHandlerContext) {
        var head = HTTPResponse(status: response.status, headerFields: response.headers)
        head.headerFields[.contentLength] = String(response.body.readableBytes)
        head.headerFields[.date] = date.now()
        head.headerFields[.server] = serverName
        if closing { head.headerFields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if response.body.readableBytes > 0 { context.write(wrapOutboundOut(.body(response.body)), promise: nil) }
        guard closing else { return context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// After an answer: what was read meanwhile (until another answer is
    /// pending), then the held events once idle, then reading again.
    private func answered(context: ChannelHandlerContext) {
        state = .idle
        if !pending.isEmpty {
            while !pending.isEmpty {
                if case .answering = state { break }
                if case .closing = state { break }
                read(pending.removeFirst(), context: context)
            }
            // Hummingbird takes what it was handed when a read completes.
            context.fireChannelReadComplete()
        }
        switch state {
        case .answering, .closing: return
        case .collecting: break
        case .idle:
            let events = held
            held = []
            for event in events {
                switch event {
                case .event(let event): context.fireUserInboundEventTriggered(event)
                case .error(let error): context.fireErrorCaught(error)
                }
            }
        }
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    // Hummingbird's responses pass here: the end of one lets the next
    // deployment request be served here again.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { forwarded = max(0, forwarded - 1) }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        switch state {
        case .closing: readHeld = true
        // Held only when the client sent more while an answer is pending
        // (pipelining): holding on every request would cost two epoll_ctl calls each.
        case .answering where !pending.isEmpty: readHeld = true
        default: context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch state {
        case .answering:
            held.append(.event(event))
        case .collecting where event is ChannelShouldQuiesceEvent:
            held.append(.event(event))
        case .collecting where (event as? ChannelEvent) == .inputClosed:
            // The client stopped sending mid-request: nothing to answer.
            state = .idle
            body = nil
            context.fireUserInboundEventTriggered(event)
        case .collecting, .idle, .closing:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .answering = state { held.append(.error(error)) } else { context.fireErrorCaught(error) }
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
