import FunctionBackend
import Management
import Runtime
import Synchronization
import Tuning

/// Resolves `ID` or `app/function` from fnrt's metadata store into runtime
/// settings. Resolved functions are cached until the store reports a change,
/// so the hot path reads a dictionary, not SQLite.
final class StoreFunctionResolver: FunctionResolver {
    let store: MetadataStore
    let images: ImageProvider
    /// Defaults applied to every function (limits the v2 API does not carry).
    let defaults: FunctionDefaults
    /// Resolved specs, and a generation that every store change bumps: a
    /// resolution that saw an older generation is not cached.
    private let cache = Mutex<(generation: UInt64, specs: [String: FunctionSpec])>((0, [:]))

    init(store: MetadataStore, images: ImageProvider, defaults: FunctionDefaults) {
        self.store = store
        self.images = images
        self.defaults = defaults
        // A change may move a function to another image: the pins go with the
        // resolutions, and the functions resolved again pin theirs again (a
        // server running for weeks kept every image it ever ran from `fnrt image prune`).
        store.observe { [weak self] _ in
            guard let self else { return }
            cache.withLock { $0 = ($0.generation + 1, [:]) }
            images.store.unpinAll()
        }
    }

    func contains(_ reference: String) async throws -> Bool {
        try resolvedNow(reference) != nil || store.resolveFunction(reference) != nil
    }

    func resolvedNow(_ reference: String) -> FunctionSpec? {
        cache.withLock { $0.specs[reference] }
    }

    func resolve(_ reference: String) async throws -> FunctionSpec? {
        let (generation, cached) = cache.withLock { ($0.generation, $0.specs[reference]) }
        if let cached { return cached }
        guard let (app, function) = try store.resolveFunction(reference) else { return nil }
        // Pinned by digest: a function whose image changes gets a pool of its own.
        var spec = FunctionSpec(app: app.name, name: function.name, image: try await images.ensure(function.image))
        spec.appID = app.id
        spec.functionID = function.id
        spec.memoryMB = function.memory
        spec.timeout = .seconds(function.timeout)
        spec.idleTimeout = .seconds(function.idleTimeout)
        if function.hasAdaptiveIdleTimeout { spec.adaptiveKeepAlive = defaults.adaptiveKeepAlive }
        spec.provisioned = function.provisionedConcurrency
        spec.config = app.effectiveConfig(for: function)
        defaults.apply(to: &spec)
        cache.withLock { if $0.generation == generation { $0.specs[reference] = spec } }
        return spec
    }
}

/// Settings fnrt applies to every function it serves.
public struct FunctionDefaults: Sendable {
    public var startupTimeout: Duration = .seconds(5)
    public var maxContainers: Int = 10
    /// The policy of functions with `idle_timeout: auto` (the paper's defaults).
    public var adaptiveKeepAlive = HybridHistogram()

    public init() {}

    func apply(to spec: inout FunctionSpec) {
        spec.startupTimeout = startupTimeout
        spec.maxContainers = maxContainers
    }
}
