import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 channel with `GatewayConnectionHandler` in front of
/// it: the gateway reads each connection's bytes first and hands the
/// connection to NIO's HTTP/1 server and Hummingbird at the first request it
/// does not serve itself. Hummingbird's idle timeout must stay off
/// (`HTTP1Channel.Configuration.idleTimeout` nil): its handler sees no read
/// on a connection the gateway serves, and would close it as idle.
/// `HandedOffClientTimeout` times the client out once the general server
/// has the connection.
struct GatewayHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let makeGatewayHandler: @Sendable () -> GatewayConnectionHandler

    var responder: Responder { http1.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(makeGatewayHandler())
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return http1.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}
