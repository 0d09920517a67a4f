import Foundation
import OCI
import Registry

/// What a pull reports as it goes, for progress displays.
public enum PullEvent: Sendable {
    /// The manifest is known: these blobs make up the image.
    case resolved(reference: ImageReference, manifest: Digest, layers: [Descriptor])
    /// Bytes of a layer received so far.
    case progress(layer: Digest, received: Int64, total: Int64)
    /// A layer is in the store; `cached` when it was there before this pull.
    case layerDone(layer: Digest, cached: Bool)
}

/// Settings of a pull.
public struct PullOptions: Sendable {
    /// The platform to choose from a multi-platform index.
    public var platform: Platform
    /// Layers downloaded at once.
    public var maxConcurrentDownloads: Int

    public init(platform: Platform = .current, maxConcurrentDownloads: Int = 3) {
        self.platform = platform
        self.maxConcurrentDownloads = max(1, maxConcurrentDownloads)
    }
}

/// An image in the store after a pull.
public struct PulledImage: Sendable {
    public var reference: ImageReference
    /// The platform manifest's descriptor, as named in `index.json`.
    public var manifestDescriptor: Descriptor
    public var manifest: Manifest
    public var config: ImageConfig
    /// The unpacked root, when the pull was asked to unpack.
    public var rootfs: UnpackReport?
}

/// Errors of a pull that are not the registry's or the store's own.
public enum PullError: Error, Sendable, CustomStringConvertible {
    case layer(index: Int, count: Int, digest: Digest, underlying: any Error)
    case invalidConfig(Digest, reason: String)

    public var description: String {
        switch self {
        case .layer(let index, let count, let digest, let underlying): "layer \(index)/\(count) \(digest): \(underlying)"
        case .invalidConfig(let digest, let reason): "image config \(digest): \(reason)"
        }
    }
}

/// Pulls images from registries into a `ContentStore`: resolves the manifest
/// (choosing the platform from an index), then fetches config and layers,
/// several at once, each verified as it streams. A blob already in the store
/// is never fetched again, and concurrent pulls of one blob share one download.
/// The image is named in `index.json` only once every blob is in place, so a
/// failed pull leaves the store's images as they were.
public final class ImagePuller: Sendable {
    public let store: ContentStore
    public let client: RegistryClient
    private let downloads = InFlight<Digest>()

    public init(store: ContentStore, client: RegistryClient) {
        self.store = store
        self.client = client
    }

    /// Pulls `reference`; with `unpacker`, also builds its root filesystem,
    /// applying each layer as soon as it and those below it are in the store.
    public func pull(_ reference: ImageReference, options: PullOptions = PullOptions(), unpacker: Unpacker? = nil,
                     events: @escaping @Sendable (PullEvent) -> Void = { _ in }) async throws -> PulledImage {
        // Its blobs are named only at the end: garbage collection waits until then.
        let lease = try await store.lease()
        defer { lease.release() }
        var fetched = try await client.manifest(reference)
        if case .index(let index) = fetched.document {
            guard let chosen = index.manifest(for: options.platform) else {
                throw RegistryError.noMatchingPlatform(reference: reference.description, wanted: options.platform,
                                                       available: index.manifests.compactMap(\.platform))
            }
            let child = try await client.manifest(reference, reference: chosen.digest.description)
            guard child.digest == chosen.digest else {
                throw RegistryError.digestMismatch(what: "manifest for \(options.platform)", expected: chosen.digest, actual: child.digest)
            }
            fetched = child
        }
        guard case .manifest(let manifest) = fetched.document else {
            throw RegistryError.invalidResponse(url: reference.description, reason: "an index inside an index is not supported")
        }
        events(.resolved(reference: reference, manifest: fetched.digest, layers: manifest.layers))

        let configData: Data
        if store.contains(manifest.config.digest) {
            configData = try store.read(manifest.config.digest)
        } else {
            configData = try await client.blob(reference, manifest.config)
            try store.write(configData, mediaType: manifest.config.mediaType)
        }
        let config: ImageConfig
        do { config = try JSONDecoder().decode(ImageConfig.self, from: configData) } catch {
            throw PullError.invalidConfig(manifest.config.digest, reason: "\(error)")
        }

        var rootfs: UnpackReport?
        if let unpacker {
            let arrivals = LayerArrivals(count: manifest.layers.count)
            async let unpacked = Self.runBlocking {
                try unpacker.rootfs(for: manifest.layers, waitForLayer: arrivals.wait)
            }
            do {
                try await fetchLayers(reference, manifest.layers, concurrency: options.maxConcurrentDownloads) { event in
                    if case .layerDone(let digest, _) = event { arrivals.arrived(manifest.layers.indices.filter { manifest.layers[$0].digest == digest }) }
                    events(event)
                }
            } catch {
                arrivals.fail(error)
                _ = try? await unpacked
                throw error
            }
            rootfs = try await unpacked
        } else {
            try await fetchLayers(reference, manifest.layers, concurrency: options.maxConcurrentDownloads, events: events)
        }

        var descriptor = try store.write(fetched.data, mediaType: fetched.mediaType)
        descriptor.platform = config.platform
        try store.tag(descriptor, as: reference.description)
        return PulledImage(reference: reference, manifestDescriptor: descriptor, manifest: manifest, config: config, rootfs: rootfs)
    }

    /// Runs blocking file system work on a thread of its own, off Swift's cooperative pool.
    static func runBlocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }

    private func fetchLayers(_ reference: ImageReference, _ layers: [Descriptor], concurrency: Int,
                             events: @escaping @Sendable (PullEvent) -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func startNext() {
                guard next < layers.count else { return }
                let index = next
                next += 1
                group.addTask { [self] in
                    let layer = layers[index]
                    do {
                        try await fetchLayer(reference, layer, what: "layer \(index + 1)/\(layers.count) \(layer.digest) of \(reference.name)", events: events)
                    } catch let error as RegistryError {
                        throw error
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        throw PullError.layer(index: index + 1, count: layers.count, digest: layer.digest, underlying: error)
                    }
                }
            }
            for _ in 0..<concurrency { startNext() }
            while try await group.next() != nil { startNext() }
        }
    }

    private func fetchLayer(_ reference: ImageReference, _ layer: Descriptor, what: String,
                            events: @escaping @Sendable (PullEvent) -> Void) async throws {
        if store.contains(layer.digest) {
            events(.layerDone(layer: layer.digest, cached: true))
            return
        }
        let downloaded = try await downloads.run(layer.digest) { [self] in
            guard let ingest = try await store.ingest(layer.digest) else { return false }
            let writer: BlobWriter
            do { writer = try BlobWriter(fileDescriptor: ingest.fileDescriptor) } catch {
                ingest.discard()
                throw StoreError.io(path: ingest.path, operation: "read", errno: errno)
            }
            do {
                try await client.download(reference, layer, into: writer, what: what) { received in
                    events(.progress(layer: layer.digest, received: received, total: layer.size))
                }
                try ingest.commit()
            } catch let error as RegistryError where error.isTransient {
                ingest.keep()  // the next pull resumes from here
                throw error
            } catch is CancellationError {
                ingest.keep()
                throw CancellationError()
            } catch {
                ingest.discard()
                throw error
            }
            return true
        }
        events(.layerDone(layer: layer.digest, cached: !downloaded))
    }
}

/// Runs one task per key at a time; callers for a key already running share
/// its result.
actor InFlight<Key: Hashable & Sendable> {
    private var tasks: [Key: Task<Bool, any Error>] = [:]

    func run(_ key: Key, _ work: @escaping @Sendable () async throws -> Bool) async throws -> Bool {
        if let task = tasks[key] {
            _ = try await task.value
            return false
        }
        let task = Task { try await work() }
        tasks[key] = task
        defer { tasks[key] = nil }
        return try await task.value
    }
}

/// Which layers of a pull are in the store, for an unpack that waits on them.
final class LayerArrivals: Sendable {
    private struct State { var arrived: [Bool]; var failure: (any Error)? }
    private let condition = NSCondition()
    private nonisolated(unsafe) var state: State  // guarded by `condition`

    init(count: Int) { state = State(arrived: Array(repeating: false, count: count)) }

    func arrived(_ indices: [Int]) {
        condition.lock()
        indices.forEach { state.arrived[$0] = true }
        condition.broadcast()
        condition.unlock()
    }

    func fail(_ error: any Error) {
        condition.lock()
        state.failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until layer `index` is in the store; throws when the pull failed.
    func wait(_ index: Int) throws {
        condition.lock()
        defer { condition.unlock() }
        while !state.arrived[index] {
            if let failure = state.failure { throw failure }
            condition.wait()
        }
    }
}
