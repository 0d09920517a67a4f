import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small HTTP/1.1 client over SwiftNIO for `HTTP_BACKEND`: plain `http`,
/// keep-alive connections pooled per host and port, whole bodies.
final class HTTPClient: Sendable {
    struct Timeouts: Sendable {
        var connect: TimeAmount
        var read: TimeAmount
        var send: TimeAmount
    }

    struct Response: Sendable {
        var head: HTTPResponseHead
        var body: ByteBuffer
        /// Whether the connection may carry another request.
        var reusable: Bool
    }

    enum Failure: Error, Sendable, Equatable {
        case connect(String)
        case connectTimeout
        case sendTimeout
        case readTimeout
        /// The connection closed or broke before any of the response arrived.
        case closedEarly
        /// The connection closed or broke in the middle of the response.
        case brokenResponse
        case responseTooLarge
    }

    /// The largest response body taken from a backend.
    static let maxResponseBytes = 64 * 1024 * 1024
    /// Idle connections kept per host and port.
    static let maxIdlePerKey = 32

    private struct Key: Hashable, Sendable {
        var host: String
        var port: Int
    }

    private let group: any EventLoopGroup
    private let idle = Mutex<[Key: [any Channel]]>([:])

    init(group: any EventLoopGroup) {
        self.group = group
    }

    /// Sends `head` and `body` to `host:port` and collects the response.
    func execute(host: String, port: Int, head: HTTPRequestHead, body: ByteBuffer, timeouts: Timeouts) async -> Result<Response, Failure> {
        let key = Key(host: host, port: port)
        if let channel = takeIdle(key) {
            let result = await exchange(on: channel, head: head, body: body, timeouts: timeouts)
            // A pooled connection the server closed meanwhile fails before any
            // byte of a response: retry once on a new one, as browsers do.
            guard case .failure(.closedEarly) = result else { return finish(result, channel: channel, key: key) }
            channel.close(promise: nil)
        }
        let channel: any Channel
        switch await connect(key, timeout: timeouts.connect) {
        case .success(let connected): channel = connected
        case .failure(let failure): return .failure(failure)
        }
        return finish(await exchange(on: channel, head: head, body: body, timeouts: timeouts), channel: channel, key: key)
    }

    private func finish(_ result: Result<Response, Failure>, channel: any Channel, key: Key) -> Result<Response, Failure> {
        if case .success(let response) = result, response.reusable, channel.isActive {
            putIdle(channel, key)
        } else {
            channel.close(promise: nil)
        }
        return result
    }

    private func exchange(on channel: any Channel, head: HTTPRequestHead, body: ByteBuffer, timeouts: Timeouts) async -> Result<Response, Failure> {
        let promise = channel.eventLoop.makePromise(of: Response.self)
        let exchange = HTTPExchangeHandler.Exchange(head: head, body: body, promise: promise, read: timeouts.read, send: timeouts.send)
        channel.writeAndFlush(exchange).whenFailure { error in promise.fail(error) }
        do {
            return .success(try await promise.futureResult.get())
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(.closedEarly)
        }
    }

    private func connect(_ key: Key, timeout: TimeAmount) async -> Result<any Channel, Failure> {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTPExchangeHandler())
                }
            }
        do {
            return .success(try await bootstrap.connect(host: key.host, port: key.port).get())
        } catch ChannelError.connectTimeout {
            return .failure(.connectTimeout)
        } catch {
            return .failure(.connect(String(describing: error)))
        }
    }

    private func takeIdle(_ key: Key) -> (any Channel)? {
        idle.withLock { pool in
            while var channels = pool[key], let channel = channels.popLast() {
                pool[key] = channels.isEmpty ? nil : channels
                if channel.isActive { return channel }
            }
            return nil
        }
    }

    private func putIdle(_ channel: any Channel, _ key: Key) {
        let kept = idle.withLock { pool in
            var channels = pool[key, default: []].filter(\.isActive)
            guard channels.count < Self.maxIdlePerKey else { return false }
            channels.append(channel)
            pool[key] = channels
            return true
        }
        if !kept { channel.close(promise: nil) }
    }

    /// Closes the idle connections.
    func shutdown() {
        let channels = idle.withLock { pool in
            defer { pool = [:] }
            return pool.values.flatMap { $0 }
        }
        for channel in channels { channel.close(promise: nil) }
    }
}

/// Carries one request and its response at a time on a connection, with the
/// send timeout (writing the request) and the read timeout (silence between
/// reads of the response). It lives on its channel's event loop only.
final class HTTPExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Exchange
    typealias OutboundOut = HTTPClientRequestPart

    struct Exchange: Sendable {
        var head: HTTPRequestHead
        var body: ByteBuffer
        var promise: EventLoopPromise<HTTPClient.Response>
        var read: TimeAmount
        var send: TimeAmount
    }

    private var promise: EventLoopPromise<HTTPClient.Response>?
    private var responseHead: HTTPResponseHead?
    private var responseBody = ByteBuffer()
    private var requestKeepAlive = true
    private var timer: Scheduled<Void>?
    private var readTimeout = TimeAmount.seconds(10)
    private var lastRead = NIODeadline.now()
    private var sending = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise writePromise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard self.promise == nil else {
            exchange.promise.fail(HTTPClient.Failure.closedEarly)
            writePromise?.fail(ChannelError.inappropriateOperationForState)
            return
        }
        promise = exchange.promise
        responseHead = nil
        responseBody = context.channel.allocator.buffer(capacity: 0)
        requestKeepAlive = exchange.head.isKeepAlive
        readTimeout = exchange.read
        sending = true
        schedule(context: context, in: exchange.send, failure: .sendTimeout)

        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if exchange.body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(exchange.body))), promise: nil)
        }
        let sent = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: sent)
        sent.futureResult.assumeIsolated().whenComplete { result in
            writePromise?.completeWith(result)
            guard self.sending else { return }
            self.sending = false
            switch result {
            case .success:
                self.lastRead = .now()
                self.schedule(context: context, in: self.readTimeout, failure: .readTimeout)
            case .failure:
                self.fail(.closedEarly, context: context)
            }
        }
    }

    private func schedule(context: ChannelHandlerContext, in delay: TimeAmount, failure: HTTPClient.Failure) {
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            self.timer = nil
            guard self.promise != nil else { return }
            if failure == .readTimeout {
                // Reads since the timer was set push the deadline back.
                let remaining = self.lastRead + self.readTimeout - .now()
                if remaining > .zero {
                    self.schedule(context: context, in: remaining, failure: .readTimeout)
                    return
                }
            }
            self.fail(failure, context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        switch unwrapInboundIn(data) {
        case .head(let head):
            // 1xx interim responses are not the answer.
            if head.status.code >= 100 && head.status.code < 200 && head.status != .switchingProtocols { return }
            responseHead = head
        case .body(var chunk):
            guard responseHead != nil else { return }
            if responseBody.readableBytes + chunk.readableBytes > HTTPClient.maxResponseBytes {
                fail(.responseTooLarge, context: context)
                return
            }
            responseBody.writeBuffer(&chunk)
        case .end:
            guard let head = responseHead, let promise else { return }
            timer?.cancel()
            timer = nil
            self.promise = nil
            responseHead = nil
            // A response that came before the whole request was sent leaves the connection in doubt.
            let response = HTTPClient.Response(head: head, body: responseBody,
                                               reusable: requestKeepAlive && head.isKeepAlive && !sending)
            sending = false
            responseBody = context.channel.allocator.buffer(capacity: 0)
            promise.succeed(response)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(responseHead == nil ? .closedEarly : .brokenResponse, context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(responseHead == nil ? .closedEarly : .brokenResponse, context: context)
        context.close(promise: nil)
    }

    private func fail(_ failure: HTTPClient.Failure, context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        sending = false
        guard let promise else { return }
        self.promise = nil
        promise.fail(failure)
        context.close(promise: nil)
    }
}
