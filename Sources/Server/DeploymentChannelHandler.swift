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
/// read meanwhile wait here (and reading stops once some do); a graceful shutdown's quiesce
/// event waits for the answer, so the connection closes after it.
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
        /// A deployment's request being read.
        case collecting(head: HTTPRequest, match: DeploymentMatch, body: ByteBuffer?, tooLarge: Bool)
        /// Its answer pending.
        case answering
    }

    private var state = State.idle
    /// Requests handed on to Hummingbird whose response has not ended yet.
    private var forwarded = 0
    /// Parts read while an answer was pending, served after it.
    private var pending: [HTTPRequestPart] = []
    private var readHeld = false
    private var quiesce: Any?
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
        case (.answering, _):
            pending.append(part)
        case (.idle, .head(let head)):
            if forwarded == 0, let path = head.path, !FnrtResponder.isServerPath(path),
               let match = gateway.match(path: Self.pathOnly(path)) {
                state = .collecting(head: head, match: match, body: nil, tooLarge: false)
            } else {
                forwarded += 1
                context.fireChannelRead(wrapInboundOut(part))
            }
        case (.idle, _):
            context.fireChannelRead(wrapInboundOut(part))
        case (.collecting(let head, let match, var body, var tooLarge), .body(var chunk)):
            if !tooLarge {
                if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
                tooLarge = body!.readableBytes > min(maxBodyBytes, match.maxBodyBytes)
                if tooLarge { body = nil }
            }
            state = .collecting(head: head, match: match, body: body, tooLarge: tooLarge)
        case (.collecting(let head, let match, let body, let tooLarge), .end):
            state = .answering
            answer(head, match: match, body: body, tooLarge: tooLarge, context: context)
        case (.collecting, .head):
            // A head before the last one ended: the decoder never does this.
            context.close(promise: nil)
        }
    }

    private func answer(_ head: HTTPRequest, match: DeploymentMatch, body: ByteBuffer?, tooLarge: Bool, context: ChannelHandlerContext) {
        let started = ContinuousClock.now
        let path = head.path ?? "/"
        let client = context.channel.remoteAddress?.ipAddress
        let answer: EventLoopFuture<GatewayResponse>
        if tooLarge {
            answer = context.eventLoop.makeSucceededFuture(FnrtResponder.tooLargeAnswer)
        } else {
            let split = path.firstIndex(of: "?")
            var request = GatewayRequest(method: head.method, path: split.map { String(path[..<$0]) } ?? path,
                                         query: split.map { String(path[path.index(after: $0)...]) }, headers: head.headerFields,
                                         body: body ?? ByteBuffer(), clientAddress: client)
            request.authority = head.authority
            answer = match.handle(request, on: context.eventLoop)
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        answer.whenComplete { result in
            let (handler, context) = loopBound.value
            let response = (try? result.get()) ?? .error(.internalServerError, "no answer")
            handler.write(response, closing: head.headerFields[.connection] == "close", context: context)
            FnrtResponder.logAccess(handler.logger, method: head.method, path: String(path.prefix { $0 != "?" }), status: response.status,
                                    client: client, since: started)
            handler.answered(context: context)
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

    /// After an answer: what was read meanwhile, then reading again.
    private func answered(context: ChannelHandlerContext) {
        state = .idle
        if !pending.isEmpty {
            while !pending.isEmpty, case .idle = state {
                read(pending.removeFirst(), context: context)
            }
            // Hummingbird takes what it was handed when a read completes.
            context.fireChannelReadComplete()
        }
        guard case .idle = state else { return }
        if let event = quiesce {
            quiesce = nil
            context.fireUserInboundEventTriggered(event)
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
        // Held only when the client sent more while an answer is pending
        // (pipelining): holding on every request would cost two epoll_ctl calls each.
        if case .answering = state, !pending.isEmpty { readHeld = true } else { context.read() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, case .idle = state {
            context.fireUserInboundEventTriggered(event)
        } else if event is ChannelShouldQuiesceEvent {
            quiesce = event
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private static func pathOnly(_ path: String) -> String {
        path.firstIndex(of: "?").map { String(path[..<$0]) } ?? path
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
