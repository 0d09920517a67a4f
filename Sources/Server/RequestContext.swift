import Hummingbird
import NIOCore

/// Hummingbird's per-request context plus the client's address (rate limits by `CLIENT_IP`).
public struct FnrtRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
