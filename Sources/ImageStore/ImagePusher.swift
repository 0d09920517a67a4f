import Foundation
import OCI
import Registry

/// Pushes an image from a `ContentStore` to a registry: each blob the
/// repository lacks (checked first), then the manifest, then — for a
/// multi-platform index — the index itself.
public final class ImagePusher: Sendable {
    public let store: ContentStore
    public let client: RegistryClient
    /// Blobs larger than this go up in `PATCH` chunks of this size; nil: one `PUT`.
    public let chunkSize: Int64?

    public init(store: ContentStore, client: RegistryClient, chunkSize: Int64? = 64 << 20) {
        self.store = store
        self.client = client
        self.chunkSize = chunkSize
    }

    /// Pushes the image named `source` in the store to `destination`; returns
    /// the pushed manifest's digest.
    @discardableResult
    public func push(_ source: String, to destination: ImageReference) async throws -> Digest {
        guard let descriptor = try store.resolve(source) else { throw StoreError.imageNotFound(source) }
        try await pushDocument(descriptor, to: destination, reference: destination.tag ?? descriptor.digest.description)
        return descriptor.digest
    }

    private func pushDocument(_ descriptor: Descriptor, to destination: ImageReference, reference: String) async throws {
        let data = try store.read(descriptor.digest)
        let (document, type): (ManifestDocument, String)
        do { (document, type) = try ManifestDocument.decode(data, mediaType: descriptor.mediaType) } catch {
            throw RegistryError.invalidDocument(error)
        }
        switch document {
        case .index(let index):
            for child in index.manifests where MediaType.manifests.contains(child.mediaType) {
                try await pushDocument(child, to: destination, reference: child.digest.description)
            }
        case .manifest(let manifest):
            for blob in [manifest.config] + manifest.layers {
                try await pushBlob(blob, to: destination)
            }
        }
        try await client.putManifest(destination, reference: reference, data: data, mediaType: type)
    }

    private func pushBlob(_ blob: Descriptor, to destination: ImageReference) async throws {
        if try await client.blobExists(destination, blob.digest) { return }
        let path = store.blobPath(blob.digest)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        try await client.uploadBlob(destination, blob, fileDescriptor: fd, chunkSize: chunkSize)
    }
}
