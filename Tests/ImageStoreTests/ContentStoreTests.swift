import Foundation
import ImageStore
import OCI
import Registry
import TestSupport
import Testing

@Suite struct ContentStoreTests {
    let root = Scratch.path("store")

    @Test func createsAnOCILayout() throws {
        _ = try ContentStore(root: root)
        let layout = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/oci-layout"))) as? [String: String]
        #expect(layout == ["imageLayoutVersion": "1.0.0"])
        let index = try ContentStore(root: root).index()
        #expect(index.schemaVersion == 2 && index.manifests.isEmpty)
    }

    @Test func writesReadsAndVerifiesBlobs() throws {
        let store = try ContentStore(root: root)
        let descriptor = try store.write(Data("config".utf8), mediaType: MediaType.ociConfig)
        #expect(store.contains(descriptor.digest))
        #expect(try store.read(descriptor.digest) == Data("config".utf8))
        // A blob altered on disk is refused.
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: store.blobPath(descriptor.digest)))
        #expect(throws: StoreError.self) { try store.read(descriptor.digest) }
        // No temporary file is left behind by the writes.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/ingest").isEmpty)
    }

    @Test func tagsReplaceAndUntag() throws {
        let store = try ContentStore(root: root)
        let a = try store.write(Data("a".utf8), mediaType: MediaType.ociManifest)
        let b = try store.write(Data("b".utf8), mediaType: MediaType.ociManifest)
        try store.tag(a, as: "r/x:1")
        try store.tag(b, as: "r/y:1")
        try store.tag(b, as: "r/x:1")
        #expect(try store.images().map(\.reference) == ["r/x:1", "r/y:1"])
        #expect(try store.resolve("r/x:1")?.digest == b.digest)
        #expect(try store.untag("r/y:1"))
        #expect(try !store.untag("r/y:1"))
        #expect(try store.images().map(\.reference) == ["r/x:1"])
    }

    @Test func concurrentTagsAreAllKept() async throws {
        let store = try ContentStore(root: root)
        let d = try store.write(Data("m".utf8), mediaType: MediaType.ociManifest)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 { group.addTask { try store.tag(d, as: "r/n:\(i)") } }
            try await group.waitForAll()
        }
        #expect(try store.images().count == 20)
    }

    @Test func ingestResumesAPartialFileAndCommits() async throws {
        let store = try ContentStore(root: root)
        let content = Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let digest = Digest.sha256(of: content)
        // An earlier process wrote the first part, then died.
        let first = try #require(try await store.ingest(digest))
        let w1 = try BlobWriter(fileDescriptor: first.fileDescriptor)
        try content.prefix(1_234_567).withUnsafeBytes { try w1.write($0) }
        try w1.flush()
        first.keep()
        // The next one picks up after those bytes, with the hash state rebuilt.
        let second = try #require(try await store.ingest(digest))
        let w2 = try BlobWriter(fileDescriptor: second.fileDescriptor)
        #expect(w2.count == 1_234_567)
        try content.dropFirst(1_234_567).withUnsafeBytes { try w2.write($0) }
        try w2.flush()
        #expect(w2.digest == digest)
        try second.commit()
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.blobPath(digest))) == content)
        #expect(try await store.ingest(digest) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/ingest").isEmpty)
    }
}
