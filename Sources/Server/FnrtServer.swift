import Docker
import Foundation
import FunctionBackend
import Gateway
import Hummingbird
import HummingbirdCore
import ImageStore
import Logging
import Management
import NIOCore
import Prometheus
import Registry
import Runtime
import ServiceLifecycle

/// What `fnrt serve` runs with.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Deployment specs, one JSON file each (default `$FNRT_HOME/deployments`).
    public var specsDirectory: String?
    /// The SQLite file of apps, functions and triggers (default `$FNRT_HOME/fnrt.db`).
    public var databasePath: String?
    /// Bearer token for `/v2` and `/invoke`; required when `host` is not loopback.
    public var apiToken: String?
    /// `docker` or `oci`.
    public var driver = "docker"
    public var scheduler = SchedulerOptions()
    public var functions = FunctionDefaults()
    /// The invocation trace (JSON Lines, rotated), the input of `fnrt tune`; nil: none.
    public var tracePath: String?
    public var maxBodyBytes = 6 << 20
    /// How long a client may send nothing: nothing of its next request on a
    /// kept-alive connection, or not the rest of a request begun (then 408).
    /// Its connection is closed after at least this, at most half as long again.
    public var clientTimeout: Duration = .seconds(60)
    /// How long in-flight calls may take to finish on shutdown.
    public var shutdownGrace: Duration = .seconds(10)
    /// Where the gateway's connections write their access lines; nil: through the logger.
    public var accessLog: (any AccessLogWriter)?

    public init() {}

    /// True when `host` only accepts connections from this machine.
    public var isLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.") }
}

public struct ServerError: Error, CustomStringConvertible {
    public var description: String
}

/// `fnrt serve`: the gateway, Fn's management API, `/invoke`, `/t` and the
/// scheduler in one process on one port. SIGTERM, SIGINT or SIGHUP stops taking
/// requests, lets calls in flight finish, and removes every container.
public struct FnrtServer: Sendable {
    public let configuration: ServerConfiguration
    let home: FnrtHome
    let logger: Logger

    public init(configuration: ServerConfiguration, home: FnrtHome, logger: Logger) throws {
        guard (0...65535).contains(configuration.port) else {
            throw ServerError(description: "port \(configuration.port) is out of range: use 1 to 65535 (0: any free port)")
        }
        guard configuration.isLoopback || configuration.apiToken != nil else {
            throw ServerError(description: "listening on \(configuration.host) needs an API token (--api-token or FNRT_API_TOKEN): the management API must not be open to the network")
        }
        self.configuration = configuration
        self.home = home
        self.logger = logger
    }

    /// Runs until SIGTERM, SIGINT or SIGHUP, or until `stop` returns (tests, embedding),
    /// then shuts down gracefully. `onRunning` gets the bound port (useful with port 0).
    public func run(registry: RegistryClient, until stop: (@Sendable () async -> Void)? = nil,
                    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let parts = try assemble(registry: registry)
        let gateway = parts.responder.gateway, maxBodyBytes = configuration.maxBodyBytes, logger = logger, accessLog = configuration.accessLog
        let clientTimeout = TimeAmount(configuration.clientTimeout)
        // Past twice the body limit (at least 1 MiB more), the connection is closed.
        let cap = max(2 * configuration.maxBodyBytes, configuration.maxBodyBytes + (1 << 20))
        let handlers: @Sendable () -> [any RemovableChannelHandler] = {
            [ExpectContinueHandler(limit: maxBodyBytes), RequestBodyCap(limit: cap), HandedOffClientTimeout(timeout: clientTimeout)]
        }
        var app = Application(
            responder: parts.responder,
            server: HTTPServerBuilder { responder in
                GatewayHTTP1Channel(
                    http1: HTTP1Channel(responder: responder, configuration: .init(additionalChannelHandlers: handlers())),
                    makeGatewayHandler: { GatewayConnectionHandler(gateway: gateway, maxBodyBytes: maxBodyBytes, serverName: "fnrt",
                                                                                logger: logger, accessLog: accessLog, clientTimeout: clientTimeout) })
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "fnrt"),
            services: [parts.runtime, parts.follower],
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        let runtime = parts.runtime
        app.beforeServerStarts { await runtime.prepare() }
        // Services shut down last to first: the scheduler stops taking calls
        // (queued ones get 503), then the server drains, then containers go.
        let group = ServiceGroup(configuration: .init(services: [app, StopAccepting(scheduler: runtime.scheduler)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint, .sighup], logger: logger))
        let trigger = stop.map { stop in
            Task {
                await stop()
                await group.triggerGracefulShutdown()
            }
        }
        defer { trigger?.cancel() }
        do {
            try await group.run()
        } catch let error as IOError where [EADDRINUSE, EADDRNOTAVAIL, EACCES].contains(error.errnoCode) {
            // Only binding the listening socket fails so: say what could not be listened on.
            throw ServerError(description: "cannot listen on \(configuration.host):\(configuration.port): \(String(cString: strerror(error.errnoCode)))")
        }
    }

    struct Parts {
        var responder: FnrtResponder
        var runtime: RuntimeService
        var follower: FunctionChangeFollower
    }

    func assemble(registry: RegistryClient) throws -> Parts {
        let store = try ContentStore(home: home)
        let metadata = try MetadataStore(path: configuration.databasePath ?? "\(home.path)/fnrt.db")
        let instance = RuntimeInstance.name("serve")
        let driver: any ContainerDriver = configuration.driver == "oci"
            ? try OCIDriver(store: store, home: home, instance: instance)
            : try DockerDriver(docker: try DockerClient(), store: store, home: home, instance: instance, onImageLoad: { [logger] image, progress in
                guard progress.isLayerLoaded else { return }
                logger.info("image layer loaded into Docker", metadata: ["image": "\(image)", "layer": "\(progress.layer ?? "-")", "bytes": "\(progress.total ?? 0)"])
            })
        let prometheus = PrometheusCollectorRegistry()
        let trace = try configuration.tracePath.map { try InvocationTrace(path: $0) }
        let scheduler = Scheduler(driver: driver, options: configuration.scheduler, trace: trace, metrics: PrometheusMetricsFactory(registry: prometheus),
                                  logger: logger)
        let resolver = StoreFunctionResolver(store: metadata, images: ImageProvider(store: store, registry: registry), defaults: configuration.functions)
        let gateway = Gateway(reservedPrefixes: FnrtResponder.reservedPrefixes, plugins: [FunctionBackendPlugin(resolver: resolver, invoker: scheduler)])
        let deployments = try DeploymentDirectory(path: configuration.specsDirectory ?? "\(home.path)/deployments", gateway: gateway, logger: logger)
        let responder = FnrtResponder(gateway: gateway, management: ManagementAPI(store: metadata), deployments: deployments, store: metadata,
                                      resolver: resolver, invoker: scheduler, metrics: prometheus, apiToken: configuration.apiToken,
                                      maxBodyBytes: configuration.maxBodyBytes)
        return Parts(responder: responder, runtime: RuntimeService(scheduler: scheduler, deployments: deployments, grace: configuration.shutdownGrace, logger: logger),
                     follower: FunctionChangeFollower(store: metadata, scheduler: scheduler, resolver: resolver, logger: logger))
    }
}

/// Turns graceful shutdown's first moment into 503s for new calls.
struct StopAccepting: Service {
    let scheduler: Scheduler

    func run() async throws {
        try? await gracefulShutdown()
        scheduler.stopAccepting()
    }
}

/// The runtime's side of the server's life: orphans removed and
/// deployments loaded before serving; the specs directory watched; on
/// shutdown, calls in flight finished and every container removed.
struct RuntimeService: Service {
    let scheduler: Scheduler
    let deployments: DeploymentDirectory
    let grace: Duration
    let logger: Logger

    /// Before the first request: leftovers removed, deployments loaded.
    func prepare() async {
        do {
            let orphans = try await scheduler.removeOrphans()
            if orphans > 0 { logger.info("removed containers an earlier fnrt left", metadata: ["count": "\(orphans)"]) }
        } catch {
            // Served all the same: the engine may come up later, and the pools then start containers.
            logger.warning("the container engine does not answer: function calls fail until it does", metadata: ["error": "\(error)"])
        }
        await deployments.sync()
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await deployments.watch()
        }
        logger.info("shutting down: finishing calls in flight, removing containers")
        await scheduler.shutdown(grace: grace)
    }
}
