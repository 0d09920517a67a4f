import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Serves OCI API Gateway deployments, each under its path prefix.
///
/// Deploying validates a spec completely and swaps it in atomically: a bad
/// spec never replaces the one being served, and requests in flight finish
/// on the deployment they started with. The request path takes one lock to
/// read an immutable snapshot.
public final class Gateway: Sendable {
    /// The default request body limit: 6 MiB, OCI Functions' payload limit.
    /// A spec changes it with `requestPolicies.bodyLimit.maxBytes`.
    public static let defaultMaxBodyBytes = 6 * 1024 * 1024

    private struct Snapshot: Sendable {
        /// Deployments by path prefix (substrings, so a request's path is looked up without copying).
        var byPrefix: [Substring: CompiledDeployment] = [:]
    }

    private struct State: Sendable {
        var snapshot = Snapshot()
        var byID: [String: CompiledDeployment] = [:]
        var plugins: [String: any BackendPlugin] = [:]
    }

    private let state: Mutex<State>
    /// Bumped with every change of the snapshot (under the lock), so that a
    /// match a connection keeps can be checked without the lock.
    private let generation = Atomic<UInt64>(0)
    private let reservedPrefixes: [String]
    private let httpClient: HTTPClient
    private let logger: Logger

    /// - Parameters:
    ///   - reservedPrefixes: paths the server keeps for itself (`/v2`, `/invoke`,
    ///     `/t`, `/metrics`, `/health`); no deployment may shadow them.
    ///   - plugins: backend plugins beyond the built-in `HTTP_BACKEND`,
    ///     `STOCK_RESPONSE_BACKEND` and `DYNAMIC_ROUTING_BACKEND` (the
    ///     runtime's `ORACLE_FUNCTIONS_BACKEND`, say).
    ///   - eventLoopGroup: where `HTTP_BACKEND` connections run.
    public init(reservedPrefixes: [String] = [], plugins: [any BackendPlugin] = [],
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "fnrt.gateway")) {
        self.reservedPrefixes = reservedPrefixes
        self.httpClient = HTTPClient(group: eventLoopGroup)
        self.logger = logger
        var registry: [String: any BackendPlugin] = [:]
        let builtIn: [any BackendPlugin] = [
            HTTPBackendPlugin(client: httpClient), StockResponseBackendPlugin(), DynamicRoutingBackendPlugin(),
        ]
        for plugin in builtIn + plugins { registry[plugin.type] = plugin }
        self.state = Mutex(State(plugins: registry))
    }

    /// Adds (or replaces) the plugin for its `type`; deployments made after use it.
    public func register(_ plugin: any BackendPlugin) {
        state.withLock { $0.plugins[plugin.type] = plugin }
    }

    /// The backend types this gateway can build.
    public var backendTypes: [String] {
        state.withLock { $0.plugins.keys.sorted() }
    }

    // MARK: Deploying

    /// Validates the deployment resource in `json` and serves it as `id`,
    /// replacing `id`'s previous version; throws every problem found.
    public func deploy(_ json: [UInt8], id: String) async throws(SpecValidationError) {
        try await deploy(decode(json), id: id)
    }

    /// Checks the deployment resource in `json` as `deploy` would (plugins included) without serving it.
    public func validate(_ json: [UInt8]) async throws(SpecValidationError) {
        try await validate(decode(json))
    }

    /// The resource in `json`; when its envelope is broken, the problems of
    /// its specification are reported with the envelope's.
    private func decode(_ json: [UInt8]) async throws(SpecValidationError) -> Deployment {
        do {
            return try Deployment(json: json)
        } catch {
            var problems = error.problems
            if let value = try? JSONDecoder().decode(JSONValue.self, from: Data(json)),
               case .object(let specification)? = value["specification"] {
                let draft = Deployment(pathPrefix: "/", specification: .object(specification))
                if case .failure(let more) = await validator(checkingPrefix: false).compile(draft, id: "") {
                    problems += more.problems
                }
            }
            throw SpecValidationError(problems: problems)
        }
    }

    /// Validates `deployment` and serves it as `id`, replacing `id`'s previous
    /// version; throws every problem found, and then serves what it served before.
    public func deploy(_ deployment: Deployment, id: String) async throws(SpecValidationError) {
        let compiled = try await compile(deployment, id: id)
        try state.withLock { (state: inout State) throws(SpecValidationError) in
            if let other = state.snapshot.byPrefix[deployment.pathPrefix[...]], other.id != id {
                throw SpecValidationError(problems: [SpecProblem(
                    path: "pathPrefix", message: "\"\(deployment.pathPrefix)\" is already served by deployment \"\(other.id)\"")])
            }
            var snapshot = state.snapshot
            if let previous = state.byID[id] { snapshot.byPrefix[previous.prefix[...]] = nil }
            snapshot.byPrefix[deployment.pathPrefix[...]] = compiled
            state.byID[id] = compiled
            state.snapshot = snapshot
            generation.add(1, ordering: .releasing)
        }
        logger.debug("deployed", metadata: ["id": "\(id)", "pathPrefix": "\(deployment.pathPrefix)", "routes": "\(compiled.routes.count)"])
    }

    /// Checks `deployment` as `deploy` would (plugins included) without serving it.
    public func validate(_ deployment: Deployment) async throws(SpecValidationError) {
        _ = try await compile(deployment, id: "")
    }

    private func compile(_ deployment: Deployment, id: String) async throws(SpecValidationError) -> CompiledDeployment {
        switch await validator().compile(deployment, id: id) {
        case .success(let compiled): return compiled
        case .failure(let error): throw error
        }
    }

    private func validator(checkingPrefix: Bool = true) -> SpecValidator {
        SpecValidator(reservedPrefixes: reservedPrefixes, plugins: state.withLock { $0.plugins }, checksPrefix: checkingPrefix)
    }

    /// Stops serving `id`; false when there was no such deployment.
    @discardableResult
    public func remove(id: String) -> Bool {
        state.withLock { state in
            guard let previous = state.byID.removeValue(forKey: id) else { return false }
            state.snapshot.byPrefix[previous.prefix[...]] = nil
            generation.add(1, ordering: .releasing)
            return true
        }
    }

    /// Deploys every `*.json` file of `directory` (one deployment resource
    /// each, its id the file name without `.json`), in name order. Returns
    /// the files that were not deployed, each with all its problems.
    public func loadDirectory(_ directory: String) async -> [DeploymentFileError] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted()
        } catch {
            return [DeploymentFileError(file: directory, error: SpecValidationError(problems: [
                SpecProblem(path: "", message: "cannot read the directory: \(error.localizedDescription)")]))]
        }
        var failures: [DeploymentFileError] = []
        for name in names {
            let file = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: file) else {
                failures.append(DeploymentFileError(file: file, error: SpecValidationError(problems: [
                    SpecProblem(path: "", message: "cannot read the file")])))
                continue
            }
            do {
                try await deploy(Array(data), id: String(name.dropLast(5)))
            } catch {
                failures.append(DeploymentFileError(file: file, error: error))
            }
        }
        return failures
    }

    /// The deployments being served, by path prefix.
    public var deployments: [DeploymentInfo] {
        let all = state.withLock { Array($0.byID.values) }
        return all.sorted { $0.prefix < $1.prefix }.map {
            DeploymentInfo(id: $0.id, displayName: $0.deployment.displayName, pathPrefix: $0.prefix,
                           routeCount: $0.routes.count, deployment: $0.deployment)
        }
    }

    // MARK: Serving

    /// Serves `request`, or returns nil when no deployment's prefix matches
    /// its path (the server answers 404 or routes it elsewhere). The longest
    /// prefix wins, matched on segment boundaries (`/api` serves `/api` and
    /// `/api/x`, not `/apix`).
    public func handle(_ request: GatewayRequest) async -> GatewayResponse? {
        await match(path: request.path)?.handle(request)
    }

    /// The body limit of the deployment that would serve `path`, so the
    /// server can stop reading a body early (and answer 413); nil when no
    /// deployment serves it.
    public func maxBodyBytes(forPath path: String) -> Int? {
        match(path: path)?.maxBodyBytes
    }

    /// The deployment that serves `path`, found once: a server that wants its
    /// body limit before reading the body, then the answer, looks it up once.
    public func match(path: String) -> DeploymentMatch? {
        let (snapshot, generation) = state.withLock { ($0.snapshot, self.generation.load(ordering: .relaxed)) }
        return Self.deployment(for: path, in: snapshot).map { DeploymentMatch(deployment: $0.0, routePath: $0.1, path: path, generation: generation) }
    }

    /// True when `match` still serves `path`: it was made for that path and
    /// no deployment changed since. A connection keeps its last match and
    /// asks this, without a lock or a lookup, before matching again.
    public func isCurrent(_ match: DeploymentMatch, for path: String) -> Bool {
        match.generation == generation.load(ordering: .acquiring) && match.path == path
    }

    private static func deployment(for path: String, in snapshot: Snapshot) -> (CompiledDeployment, Substring)? {
        if snapshot.byPrefix.isEmpty { return nil }
        var end = path.endIndex
        while true {
            if let found = snapshot.byPrefix[path[..<end]] { return (found, path[end...]) }
            guard let slash = path.utf8[..<end].lastIndex(of: UInt8(ascii: "/")), slash > path.startIndex else { return nil }
            end = slash
        }
    }

    /// Whether `prefix` is `path` or a parent of it on a segment boundary.
    static func isPrefix(_ prefix: String, of path: String) -> Bool {
        guard path.hasPrefix(prefix) else { return false }
        return path.count == prefix.count || prefix.hasSuffix("/") || path.dropFirst(prefix.count).first == "/"
    }

    /// Closes the idle connections to HTTP backends.
    public func shutdown() {
        httpClient.shutdown()
    }
}

/// The deployment serving one request path, from the snapshot served when it
/// was matched (a redeploy meanwhile does not change it).
public struct DeploymentMatch: Sendable {
    let deployment: CompiledDeployment
    /// The path under the deployment's prefix.
    let routePath: Substring
    /// The path matched, and the gateway's generation then (`Gateway.isCurrent`).
    let path: String
    let generation: UInt64

    /// The deployment's body limit (413 beyond it).
    public var maxBodyBytes: Int { deployment.maxBodyBytes }

    /// Serves `request` (whose path is the one matched).
    public func handle(_ request: GatewayRequest) async -> GatewayResponse {
        await deployment.handle(request, routePath: routePath)
    }

    /// Serves `request`, its answer given to `answer` on `eventLoop`,
    /// without leaving the loop when no part of the route has to wait (see
    /// `GatewayBackend`).
    public func handle(_ request: GatewayRequest, on eventLoop: any EventLoop, answer: @escaping @Sendable (GatewayResponse) -> Void) {
        deployment.handle(request, routePath: routePath, on: eventLoop, answer: answer)
    }
}
