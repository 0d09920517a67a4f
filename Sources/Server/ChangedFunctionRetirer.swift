import FunctionBackend
import Management
import Runtime
import ServiceLifecycle

/// Follows the metadata store's changes and retires the containers of
/// functions that changed or went (`Scheduler.retire`): after an update,
/// new calls go to containers with the new settings while the old ones
/// finish their calls and go; after a deletion (of the function or its
/// app), its containers go. An update that changes none of the settings
/// a container runs with (annotations, a trigger) keeps them hot.
///
/// Changes are handled one at a time, in the order they were made, so
/// that an earlier change's resolution can never retire a later one's pool.
struct ChangedFunctionRetirer: Service {
    let scheduler: Scheduler
    let resolver: any FunctionResolver
    private let changes: AsyncStream<ManagementChange>

    init(store: MetadataStore, scheduler: Scheduler, resolver: any FunctionResolver) {
        self.scheduler = scheduler
        self.resolver = resolver
        let (changes, continuation) = AsyncStream.makeStream(of: ManagementChange.self)
        self.changes = changes
        store.observe { continuation.yield($0) }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
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
            await retireOutdated { $0.functionID == id }
        case .app(let id, deleted: false):
            await retireOutdated { $0.appID == id }  // the app's config reaches its functions
        case .trigger:
            break
        }
    }

    /// Retires the pools of the functions `affected` selects whose settings
    /// are no longer what the store resolves them to. A function that cannot
    /// be resolved now (its new image cannot be pulled) keeps its containers:
    /// its calls fail with the reason, and the old ones go at their idle timeout.
    private func retireOutdated(_ affected: (FunctionSpec) -> Bool) async {
        let functionIDs = Set(scheduler.poolSpecs().filter(affected).compactMap(\.functionID))
        for id in functionIDs {
            let current: FunctionSpec?
            do { current = try await resolver.resolve(id) } catch { continue }
            scheduler.retire { $0.functionID == id && $0 != current }
        }
    }
}
