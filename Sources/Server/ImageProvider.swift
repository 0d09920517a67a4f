import ImageStore
import OCI
import Registry

/// Makes sure a function's image is in the content store before its first
/// container starts: pulls it when missing, once however many calls ask.
actor ImageProvider {
    let store: ContentStore
    let registry: RegistryClient
    private var pulls: [String: Task<Void, any Error>] = [:]
    /// A failed pull's error, answered without pulling again until it expires.
    private var failures: [String: (error: any Error, until: ContinuousClock.Instant)] = [:]
    /// How long a failed pull is remembered.
    let failureMemory: Duration = .seconds(10)

    init(store: ContentStore, registry: RegistryClient) {
        self.store = store
        self.registry = registry
    }

    /// The image as `name@digest` in the store, pulled first when it is not
    /// there, and pinned (`ContentStore.pin`): a later pull of the same name
    /// or `fnrt image prune` leaves what this process runs in the store.
    func ensure(_ image: String) async throws -> String {
        if let pinned = try pinned(image) { return pinned }
        let reference = try ImageReference(parsing: image)
        let name = reference.description
        if let pinned = try pinned(name) { return pinned }
        if let pull = pulls[name] {
            try await pull.value
            return try pulled(name)
        }
        if let failure = failures[name], ContinuousClock.now < failure.until { throw failure.error }
        let store = self.store, registry = self.registry
        let pull = Task<Void, any Error> { _ = try await ImagePuller(store: store, client: registry).pull(reference) }
        pulls[name] = pull
        defer { pulls[name] = nil }
        do {
            try await pull.value
            let pinned = try pulled(name)
            failures[name] = nil
            return pinned
        } catch {
            failures[name] = (error, .now + failureMemory)
            throw error
        }
    }

    /// The image `name` just pulled, pinned.
    private func pulled(_ name: String) throws -> String {
        guard let pinned = try pinned(name) else { throw StoreError.imageNotFound(name) }
        return pinned
    }

    private func pinned(_ name: String) throws -> String? {
        guard let descriptor = try store.resolve(name) else { return nil }
        try store.pin(descriptor.digest)
        return name.contains("@") ? name : "\(name)@\(descriptor.digest)"
    }
}
