import Gateway
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers a request's `Expect` field, which NIO's HTTP/1 server and
/// Hummingbird leave unanswered (RFC 9110, section 10.1.1). A client that
/// sends `Expect: 100-continue` (curl does for bodies over 1 MiB) waits for
/// `100 Continue` before it sends its body, and without one sends it only
/// after its own timeout: curl waits a second.
///
/// The interim answer goes out with the head, as Netty's
/// `HttpServerExpectContinueHandler` does, unless the declared body is over
/// `limit`: that request gets 413 at once, before its body is sent, and the
/// connection closes. Any other expectation gets 417 and the connection
/// closes. An answered `Expect` field leaves the request, so no function
/// sees it.
final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    /// The largest body the server reads.
    let limit: Int
    /// A request was refused: what follows it is dropped while the connection closes.
    private var refused = false

    init(limit: Int) {
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        guard case .head(var head) = unwrapInboundIn(data), let expectation = head.headerFields[.expect] else {
            return context.fireChannelRead(data)
        }
        guard expectation.lowercased() == "100-continue" else {
            return refuse(context, .expectationFailed, "unsupported expectation: Expect: \(expectation)")
        }
        let declared = head.headerFields[.contentLength].flatMap { Int($0) }
        if let declared, declared > limit {
            return refuse(context, .contentTooLarge, "the request body of \(declared) bytes is over the limit of \(limit) bytes")
        }
        head.headerFields[.expect] = nil
        if (declared ?? 0) > 0 || head.headerFields[.transferEncoding] != nil {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// Answers `status` with `reason` and closes the connection once the answer is out.
    private func refuse(_ context: ChannelHandlerContext, _ status: HTTPResponse.Status, _ reason: String) {
        refused = true
        context.answerAndClose(GatewayResponse(status: status, headers: [.contentType: "text/plain"], body: ByteBuffer(string: reason + "\n")))
    }
}
