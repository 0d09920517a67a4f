import Foundation
import ImageStore
import OCI
import Testing
import TestSupport

/// `fnrt image prune`: what an image removed leaves to free, and what must stay.
@Suite struct GarbageCollectionTests {
    let sandbox = Scratch.path("gc")

    func blobs(_ store: ContentStore) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: store.root + "/blobs/sha256"))
    }

    @Test func removesWhatNoNamedImageNeedsAndKeepsWhatOneDoes() throws {
        let store = try ContentStore(root: sandbox + "/store")
        let base = try makeLayer([.directory("etc"), .text("etc/os-release", "base")])
        let kept = try storeImage([base, try makeLayer([.text("kept", "1")])], in: store, as: "r/kept:1")
        let removed = try storeImage([base, try makeLayer([.text("removed", "1")])], in: store, as: "r/removed:1")
        let running = try storeImage([base, try makeLayer([.text("running", "1")])], in: store, as: "r/running:1")
        let removedDigest = try #require(try store.resolve("r/removed:1")).digest
        let unpacker = try Unpacker(store: store, cacheDirectory: sandbox + "/rootfs")
        let roots = try [kept, removed, running].map { try unpacker.rootfs(for: $0.layers).path }
        // An interrupted download, kept to resume.
        try Data(count: 1000).write(to: URL(fileURLWithPath: store.root + "/ingest/sha256-\(String(repeating: "a", count: 64)).partial"))
        let before = try blobs(store)

        #expect(try store.untag("r/removed:1") && store.untag("r/running:1"))
        // A dry run says what would go, and removes nothing.
        let dry = try store.collectGarbage(unpacker: unpacker, rootsInUse: [roots[2]], dryRun: true)
        #expect(try blobs(store) == before && access(roots[1], F_OK) == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/ingest").contains { $0.hasSuffix(".partial") })
        let report = try store.collectGarbage(unpacker: unpacker, rootsInUse: [roots[2]])
        #expect(dry.removedBlobs == report.removedBlobs && dry.removedBytes == report.removedBytes && dry.removedRoots == report.removedRoots
            && dry.removedPartials == report.removedPartials && dry.removedImageConfigs == report.removedImageConfigs)

        // The removed images' own layer, config and manifest; the base layer stays for the kept image.
        let gone = before.subtracting(try blobs(store))
        let expected = [removed.layers[1].digest, removed.config.digest, removedDigest] + [running.layers[1].digest, running.config.digest]
        #expect(gone.isSuperset(of: expected.map(\.encoded)) && gone.count == 6, "\(gone)")
        #expect(report.removedBlobs == 6 && report.removedBytes > 0)
        #expect(Set(report.removedImageConfigs) == [removed.config.digest, running.config.digest])
        #expect(report.removedPartials == 1 && report.removedPartialBytes == 1000)
        #expect(report.keptImages == 1)
        #expect(try store.resolve("r/removed:1@\(removedDigest)") == nil)
        // The kept image reads whole; its root stays, as does the root a container runs from.
        let image = try store.image("r/kept:1")
        for blob in [image.manifest.config] + image.manifest.layers { _ = try store.read(blob.digest, limit: 1 << 30) }
        #expect(report.removedRoots == 1)
        #expect(access(roots[0], F_OK) == 0 && access(roots[1], F_OK) != 0 && access(roots[2], F_OK) == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox + "/rootfs").sorted()
            == [roots[0], roots[2]].map { ($0 as NSString).lastPathComponent }.sorted(), "nothing else is left, under any name")

        let again = try store.collectGarbage(unpacker: unpacker, rootsInUse: [roots[2]])
        #expect(again.removedBlobs == 0 && again.removedRoots == 0 && again.keptImages == 1)
    }

    /// A later pull of the same name moves it to another image; what a
    /// running `fnrt serve` pinned stays readable by digest, and through
    /// garbage collection, until the process that pinned it ends.
    @Test func anImagePinnedByARunningProcessOutlivesItsName() throws {
        let store = try ContentStore(root: sandbox + "/store")
        let first = try storeImage([try makeLayer([.text("f", "v1")])], in: store, as: "r/fn:1")
        let firstDigest = try #require(try store.resolve("r/fn:1")).digest
        try store.pin(firstDigest)
        _ = try storeImage([try makeLayer([.text("f", "v2")])], in: store, as: "r/fn:1")
        let byDigest = try #require(try store.resolve("r/fn:1@\(firstDigest)"))
        #expect(byDigest.digest == firstDigest && byDigest.mediaType == MediaType.ociManifest)

        // An image pinned by a process that has ended (no process has this ID) is not kept.
        let orphan = try storeImage([try makeLayer([.text("o", "1")])], in: store, as: "r/orphan:1")
        let orphanDigest = try #require(try store.resolve("r/orphan:1")).digest
        #expect(try store.untag("r/orphan:1"))
        let deadPin = store.root + "/pins/pin-999999999-1-\(orphanDigest.encoded)"
        #expect(FileManager.default.createFile(atPath: deadPin, contents: nil))

        let report = try store.collectGarbage()
        #expect(report.keptImages == 2)
        #expect(try store.image("r/fn:1@\(firstDigest)").manifest == first)
        #expect(!store.contains(orphanDigest) && !store.contains(orphan.layers[0].digest) && !store.contains(orphan.config.digest))
        #expect(access(deadPin, F_OK) != 0, "the ended process's pin goes")
    }

    /// A pull writes its layers before it names the image: collection waits
    /// for the pull's lease, so what the pull wrote is named, and kept.
    @Test func collectionWaitsForAPullUnderWay() async throws {
        let store = try ContentStore(root: sandbox + "/store")
        let lease = try await store.lease()
        let layer = try makeLayer([.text("new", "1")])
        let written = try store.write(layer, mediaType: MediaType.ociLayerGzip)
        // On a thread of its own: it blocks until the lease ends.
        async let collected = withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try store.collectGarbage() }) }
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(store.contains(written.digest), "collection waits while a pull holds its lease")
        _ = try storeImage([layer], in: store, as: "r/new:1")
        lease.release()
        let report = try await collected
        #expect(report.removedBlobs == 0 && report.keptImages == 1)
        _ = try store.image("r/new:1")
    }

    @Test func refusesAndRemovesNothingWhenANamedImageCannotBeRead() throws {
        let store = try ContentStore(root: sandbox + "/store")
        _ = try storeImage([try makeLayer([.text("a", "1")])], in: store, as: "r/a:1")
        let stray = try store.write(Data("stray".utf8), mediaType: MediaType.ociLayerGzip)
        let manifest = try #require(try store.resolve("r/a:1"))
        try Data("not a manifest".utf8).write(to: URL(fileURLWithPath: store.blobPath(manifest.digest)))
        #expect {
            try store.collectGarbage()
        } throws: { error in
            "\(error)".contains(manifest.digest.encoded) && "\(error)".contains("nothing was removed")
        }
        #expect(store.contains(stray.digest))
    }
}
