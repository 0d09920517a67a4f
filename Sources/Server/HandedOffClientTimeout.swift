import Gateway
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// The client timeout of a connection the gateway handed to the general
/// server (`GatewayConnectionHandler`): a client that sends nothing for
/// `timeout` while the server waits for it (for its next request, or for
/// the rest of the body of one begun) loses its connection, with 408 when
/// a request's body was coming. The time while an answer is pending is the
/// function's, and does not count; a client slowly taking a large answer is
/// not idle. Its check starts at the first request it sees: a connection the
/// gateway serves to its end never reaches it.
final class HandedOffClientTimeout: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var inactivity: ClientInactivity
    /// A request's head came and not yet its end.
    private var reading = false
    /// A request came and its answer has not ended.
    private var answerPending = false

    init(timeout: TimeAmount) {
        inactivity = ClientInactivity(timeout: timeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        inactivity.stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inactivity.noteActivity()
        switch unwrapInboundIn(data) {
        case .head:
            reading = true
            answerPending = true
            if !inactivity.isRunning { inactivity.start(on: context.eventLoop) { self.check(context: context) } }
        case .body:
            break
        case .end:
            reading = false
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        inactivity.noteActivity()
        if case .end = unwrapOutboundIn(data) { answerPending = false }
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        inactivity.noteActivity()
        context.fireChannelWritabilityChanged()
    }

    private func check(context: ChannelHandlerContext) {
        guard inactivity.isOutOfTime(waitingForClient: reading || !answerPending) else { return }
        inactivity.stop()
        guard reading, answerPending else { return context.close(promise: nil) }
        context.answerAndClose(FnrtResponder.requestTimeoutAnswer)
    }
}

extension ChannelHandlerContext {
    /// Writes `answer` from a handler of the general server's pipeline
    /// (where parts are `HTTPResponsePart`s), with its length and
    /// `Connection: close`, and closes the connection once it is out: the
    /// answers those handlers give on their own (408, 413, 417).
    func answerAndClose(_ answer: GatewayResponse) {
        var fields = answer.headers
        fields[.contentLength] = String(answer.body.readableBytes)
        fields[.connection] = "close"
        write(NIOAny(HTTPResponsePart.head(HTTPResponse(status: answer.status, headerFields: fields))), promise: nil)
        write(NIOAny(HTTPResponsePart.body(answer.body)), promise: nil)
        writeAndFlush(NIOAny(HTTPResponsePart.end(nil))).whenComplete { [self] _ in close(promise: nil) }
    }
}
