import ArgumentParser
import Foundation
import ImageStore
import Logging
import NIOCore
import Runtime
import Server

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the gateway, Fn's management API (/v2), /invoke and /t on one port, with the scheduler.",
        discussion: """
            Deployments are read from --specs (one JSON file each, reloaded when they change) and taken by PUT /v2/deployments/{id}. \
            Every flag also reads an environment variable (FNRT_LISTEN, FNRT_SPECS, FNRT_DB, FNRT_API_TOKEN, FNRT_DRIVER, FNRT_TRACE, FNRT_LOG_LEVEL). \
            SIGTERM, SIGINT or SIGHUP drains calls in flight, then removes every container.
            """)

    @Option(help: "HOST:PORT to listen on (env FNRT_LISTEN).")
    var listen: String?

    @Option(help: "Directory of deployment specs, one JSON file each (env FNRT_SPECS; default $FNRT_HOME/deployments).")
    var specs: String?

    @Option(help: "SQLite file of apps, functions and triggers (env FNRT_DB; default $FNRT_HOME/fnrt.db).")
    var db: String?

    @Option(help: "Bearer token required on /v2 and /invoke; needed when listening beyond loopback (env FNRT_API_TOKEN).")
    var apiToken: String?

    @Option(help: "Container driver: docker or oci (env FNRT_DRIVER).")
    var driver: String?

    @Option(help: "Memory budget for all containers, in MB (default: available memory less a headroom).")
    var memoryBudget: Int?

    @Option(help: "Calls that may wait for a container before the runtime answers 503.")
    var maxQueued = 100

    @Option(help: "Start-up timeout of every function, in seconds.")
    var startupTimeout = 5

    @Option(help: "Most containers of one function at once.")
    var maxContainers = 10

    @Option(help: "Seconds a client may send nothing (of its next request, or of one begun: 408) before its connection is closed, 1-3600.")
    var clientTimeout = 60

    @Option(help: "Invocation trace (JSON Lines, rotated), the input of fnrt tune (env FNRT_TRACE; default $FNRT_HOME/trace.jsonl; 'none' to disable).")
    var trace: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error (env FNRT_LOG_LEVEL).")
    var logLevel: String?

    @Option(help: "Event loop threads serving HTTP and the functions' sockets (env FNRT_EVENT_LOOPS; default: one per CPU core).")
    var eventLoops: Int?

    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        // Before anything makes the event loops (the HTTP server's and the functions' connections).
        if let loops = eventLoops ?? environment["FNRT_EVENT_LOOPS"].flatMap({ Int($0) }) {
            guard loops > 0 else { throw ValidationError("--event-loops \(loops): at least 1") }
            NIOSingletons.groupLoopCountSuggestion = loops
        }
        let level = Logger.Level(rawValue: logLevel ?? environment["FNRT_LOG_LEVEL"] ?? "info") ?? .info
        LoggingSystem.bootstrap { label in
            var handler = ServeLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        defer { ServeLogHandler.flush() }
        do {
            let home = try FnrtHome.fromEnvironment()
            var configuration = ServerConfiguration()
            let address = listen ?? environment["FNRT_LISTEN"] ?? "127.0.0.1:8080"
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
                throw ValidationError("--listen \(address): expected HOST:PORT")
            }
            configuration.host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            configuration.port = port
            configuration.specsDirectory = specs ?? environment["FNRT_SPECS"]
            configuration.databasePath = db ?? environment["FNRT_DB"]
            configuration.apiToken = apiToken ?? environment["FNRT_API_TOKEN"]
            configuration.driver = driver ?? environment["FNRT_DRIVER"] ?? "docker"
            guard ["docker", "oci"].contains(configuration.driver) else { throw ValidationError("--driver \(configuration.driver): use docker or oci") }
            configuration.scheduler = SchedulerOptions(memoryBudgetMB: memoryBudget)
            configuration.scheduler.maxQueuedCalls = maxQueued
            configuration.functions.startupTimeout = .seconds(startupTimeout)
            configuration.functions.maxContainers = maxContainers
            guard (1...3600).contains(clientTimeout) else { throw ValidationError("--client-timeout \(clientTimeout): use 1 to 3600 seconds") }
            configuration.clientTimeout = .seconds(clientTimeout)
            let tracePath = trace ?? environment["FNRT_TRACE"] ?? "\(home.path)/trace.jsonl"
            configuration.tracePath = tracePath == "none" ? nil : tracePath
            configuration.accessLog = ServeLogHandler.AccessLog()
            let logger = Logger(label: "fnrt")
            if let openFiles = OpenFilesLimit.raise(), openFiles < OpenFilesLimit.comfortable {
                logger.warning("at most \(openFiles) open files (ulimit -n, hard limit): fewer than \(openFiles) clients and hot containers at once; raise the hard limit to serve more")
            }
            let server = try FnrtServer(configuration: configuration, home: home, logger: logger)
            let host = configuration.host
            try await server.run(registry: try registry.makeClient(), onRunning: { port in
                ServeLogHandler.flush()  // the lines before it first
                FileHandle.standardError.write(Data("fnrt: serving on http://\(host):\(port)\n".utf8))
            })
        } catch {
            ServeLogHandler.flush()  // the lines before the error first
            throw fail(error)
        }
    }
}
