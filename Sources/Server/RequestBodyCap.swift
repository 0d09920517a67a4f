import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request body passes `limit` bytes. The
/// responder answers 413 once a body passes the configured limit, but the
/// HTTP server then reads the rest of that body to reuse the connection;
/// this bounds what a client can make it read (one per connection).
final class RequestBodyCap: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let limit: Int
    private var received = 0

    init(limit: Int) {
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            received = 0
        case .body(let buffer):
            received += buffer.readableBytes
            if received > limit {
                context.close(promise: nil)
                return
            }
        case .end:
            break
        }
        context.fireChannelRead(data)
    }
}
