import FunctionBackend
import Logging
import Management
import Runtime
import ServiceLifecycle

/// Keeps the scheduler's pools in line with the metadata store. At start,
/// the functions that ask for provisioned concurrency
/// (`fnrt.io/provisioned_concurrency`) get their containers. Then, at each
/// change: a changed function's pools whose settings differ from what it
/// now resolves to are retired (`Scheduler.retire`: new calls go to
/// containers with the new settings while the old ones finish their calls
/// and go), and its provisioned containers are started with the new
/// settings; a deleted function's or app's containers go. An update that
/// changes none of the settings a container runs with (an annotation of
/// its own, a trigger) keeps them hot. Only functions with containers or
/// provisioned concurrency are resolved: a change to another pulls nothing.
///
/// Changes are handled one at a time, in the order they were made, so
/// that an earlier change's resolution can never retire a later one's pool.
struct FunctionChangeFollower: Service {
    let store: MetadataStore
    let scheduler: Scheduler
    let resolver: any FunctionResolver
    let logger: Logger
    private let changes: AsyncStream<ManagementChange>

    init(store: MetadataStore, scheduler: Scheduler, resolver: any FunctionResolver, logger: Logger) {
        self.store = store
        self.scheduler = scheduler
        self.resolver = resolver
        self.logger = logger
        let (changes, continuation) = AsyncStream.makeStream(of: ManagementChange.self)
        self.changes = changes
        store.observe { continuation.yield($0) }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await refresh(Set(((try? store.provisionedFunctions()) ?? []).map(\.id)))
            for await change in changes { await handle(change) }
        }
    }

    func handle(_ change: ManagementChange) async {
        switch change {
        case .function(let id, deleted: true):
            scheduler.retire { $0.functionID == id }
        case .app(let id, deleted: true):
            scheduler.retire { $0.appID == id }
        case .function(let id, deleted: false):
            let provisioned = ((try? store.function(id: id)) ?? nil).map { $0.provisionedConcurrency > 0 } ?? false
            await refresh(functionIDs(hot: { $0.functionID == id }).union(provisioned ? [id] : []))
        case .app(let id, deleted: false):
            // The app's config reaches its functions.
            let provisioned = ((try? store.provisionedFunctions()) ?? []).filter { $0.appID == id }.map(\.id)
            await refresh(functionIDs(hot: { $0.appID == id }).union(provisioned))
        case .trigger:
            break
        }
    }

    /// The functions with pools that `selected` picks.
    private func functionIDs(hot selected: (FunctionSpec) -> Bool) -> Set<String> {
        Set(scheduler.poolSpecs().filter(selected).compactMap(\.functionID))
    }

    /// Resolves each function as the store has it now, retires its pools
    /// with other settings, and starts its provisioned containers. A
    /// function that cannot be resolved now (its new image cannot be pulled)
    /// keeps its containers: its calls fail with the reason, and the old
    /// ones go at their idle timeout.
    private func refresh(_ ids: Set<String>) async {
        for id in ids {
            let current: FunctionSpec?
            do { current = try await resolver.resolve(id) } catch {
                logger.warning("function settings not applied to its containers", metadata: ["function": "\(id)", "error": "\(error)"])
                continue
            }
            scheduler.retire { $0.functionID == id && $0 != current }
            if let current, current.provisioned > 0 { scheduler.provision(current) }
        }
    }
}
