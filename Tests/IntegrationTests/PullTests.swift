import Foundation
import ImageStore
import OCI
import Registry
import Synchronization
import TestSupport
import Testing

@Suite(.enabled(if: Services.available, Services.skipReason), .serialized)
struct PullTests {
    @Test func pullsWhatSkopeoPushedAndPeersReadTheStore() async throws {
        let repo = "\(Services.plain)/\(uniqueRepository("single")):v1"
        let image = TestImage.random(layers: 3, bytesPerLayer: 300_000)
        try await TestImage.publish([image], to: repo)
        let (puller, store) = try makePuller()
        let ref = try ImageReference(parsing: repo)
        let pulled = try await puller.pull(ref)

        #expect(pulled.manifest.layers.count == 3)
        #expect(pulled.config.platform == .current)
        #expect(try store.images().map(\.reference) == [repo])
        try verifyBlobs(store)
        // skopeo reads the layout and agrees on the digest.
        let inspect = try await mustRun(["skopeo", "inspect", "oci:\(store.root):\(repo)"])
        #expect(inspect.contains(pulled.manifestDescriptor.digest.description))
        // skopeo copies from the layout to a registry, and the registry gets the same manifest.
        let copy = "\(Services.plain)/\(uniqueRepository("copied")):v1"
        try await mustRun(["skopeo", "copy", "-q", "--dest-tls-verify=false", "--preserve-digests", "oci:\(store.root):\(repo)", "docker://\(copy)"])
        #expect(try await mustRun(["skopeo", "inspect", "--tls-verify=false", "docker://\(copy)"]).contains(pulled.manifestDescriptor.digest.description))
        // umoci unpacks it to the files that were pushed.
        let bundle = Scratch.directory("bundle") + "/b"
        try await mustRun(["umoci", "unpack", "--rootless", "--image", "\(store.root):\(repo)", bundle])
        for (name, content) in image.layers.flatMap({ $0 }) {
            #expect(FileManager.default.contents(atPath: "\(bundle)/rootfs/\(name)") == content, "\(name) differs after umoci unpack")
        }
        // A second pull fetches no layer again.
        let cached = Locked<[Bool]>([])
        _ = try await puller.pull(ref) { event in
            if case .layerDone(_, let wasCached) = event { cached.update { $0.append(wasCached) } }
        }
        #expect(cached.value == [true, true, true])
    }

    @Test func unpacksLayersAsTheyArrive() async throws {
        let repo = "\(Services.plain)/\(uniqueRepository("unpack")):v1"
        let image = TestImage.random(layers: 4, bytesPerLayer: 400_000)
        try await TestImage.publish([image], to: repo)
        let (puller, store) = try makePuller()
        let unpacker = try Unpacker(store: store, cacheDirectory: store.root + "/../rootfs")
        let pulled = try await puller.pull(try ImageReference(parsing: repo), unpacker: unpacker)
        let rootfs = try #require(pulled.rootfs)
        #expect(rootfs.layersApplied == 4)
        for (name, content) in image.layers.flatMap({ $0 }) {
            #expect(FileManager.default.contents(atPath: "\(rootfs.path)/\(name)") == content)
        }
        // The next cold start finds the root in the cache.
        #expect(try unpacker.rootfs(for: pulled.manifest.layers).layersApplied == 0)
    }

    /// A full disk: the error names the layer and what failed (it said
    /// `blob download: Error Domain=NSPOSIXErrorDomain Code=28 ...`), and
    /// the store's images and ingest directory are as they were.
    @Test(.enabled(if: getuid() == 0, "mounts a small tmpfs"))
    func aFullDiskNamesTheLayerAndLeavesTheStoreAsItWas() async throws {
        let repo = "\(Services.plain)/\(uniqueRepository("full")):v1"
        try await TestImage.publish([TestImage.random(layers: 1, bytesPerLayer: 3 << 20)], to: repo)
        let disk = Scratch.directory("full-disk")
        try await mustRun(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", disk])
        defer { _ = try? runBlocking(["umount", disk]) }
        let (puller, store) = try makePuller(root: disk + "/store")
        do {
            _ = try await puller.pull(try ImageReference(parsing: repo))
            Issue.record("pulled 3 MiB onto a disk of 1 MiB")
        } catch {
            #expect("\(error)".hasPrefix("layer 1/1 sha256:") && "\(error)".hasSuffix("writing it to the store: No space left on device"), "\(error)")
        }
        #expect(try store.images().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/ingest").isEmpty)
    }

    @Test func choosesThePlatformFromAnIndex() async throws {
        let repo = "\(Services.plain)/\(uniqueRepository("multi")):v1"
        let arm64 = try Platform(parsing: "linux/arm64/v8")
        let other = Platform.current == arm64 ? Platform(os: "linux", architecture: "amd64") : arm64
        try await TestImage.publish([TestImage.random(layers: 1, bytesPerLayer: 1000),
                               TestImage.random(layers: 2, bytesPerLayer: 1000, platform: other)], to: repo)
        let ref = try ImageReference(parsing: repo)

        let (puller, _) = try makePuller()
        let native = try await puller.pull(ref)
        #expect(native.config.platform == .current)
        #expect(native.manifest.layers.count == 1)

        let chosen = try await puller.pull(ref, options: PullOptions(platform: other))
        #expect(chosen.config.architecture == other.architecture)
        #expect(chosen.manifest.layers.count == 2)

        await #expect {
            try await puller.pull(ref, options: PullOptions(platform: try Platform(parsing: "linux/s390x")))
        } throws: { error in
            let text = "\(error)"
            return text.contains("no image for linux/s390x") && text.contains(Platform.current.description) && text.contains(other.description)
        }
    }

    @Test func missingTagIsNotFoundNamingTheReference() async throws {
        let repo = "\(Services.plain)/\(uniqueRepository("missing")):nope"
        let (puller, store) = try makePuller()
        await #expect {
            try await puller.pull(try ImageReference(parsing: repo))
        } throws: { error in
            "\(error)".contains("not found") && "\(error)".contains(repo) && "\(error)".contains("MANIFEST_UNKNOWN")
        }
        #expect(try store.images().isEmpty)
    }

    @Test func alteredBlobInTheRegistryFailsThePullAndLeavesTheStoreAsItWas() async throws {
        let repository = uniqueRepository("corrupt")
        let repo = "\(Services.plain)/\(repository):v1"
        let image = TestImage.random(layers: 2, bytesPerLayer: 200_000)
        try await TestImage.publish([image], to: repo)
        let ref = try ImageReference(parsing: repo)
        let manifest = try await RegistryClient().manifest(ref)
        guard case .manifest(let m) = manifest.document else { throw TestFailure("not a manifest") }
        let victim = m.layers[1].digest
        // Alter the blob in the registry's own storage, same size.
        let path = "\(Services.servicesDir)/registry/data/docker/registry/v2/blobs/sha256/\(victim.encoded.prefix(2))/\(victim.encoded)/data"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))

        let (puller, store) = try makePuller()
        let indexBefore = try Data(contentsOf: URL(fileURLWithPath: store.root + "/index.json"))
        await #expect {
            try await puller.pull(ref)
        } throws: { error in
            guard case RegistryError.digestMismatch(let what, let expected, _) = error else { return false }
            return expected == victim && what.contains("layer 2/2")
        }
        #expect(!store.contains(victim))
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/ingest").isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.root + "/index.json")) == indexBefore)
    }

    @Test func cutConnectionResumesWithRange() async throws {
        let repository = uniqueRepository("resume")
        let repo = "\(Services.plain)/\(repository):v1"
        try await TestImage.publish([TestImage.random(layers: 1, bytesPerLayer: 3_000_000)], to: repo)
        guard case .manifest(let m) = try await RegistryClient().manifest(try ImageReference(parsing: repo)).document else {
            throw TestFailure("not a manifest")
        }
        let layer = m.layers[0].digest
        let proxy = try CutProxy(targetPort: Int(Services.plain.split(separator: ":")[1])!, match: layer.description, cutAfter: 1_000_000)
        defer { proxy.stop() }
        let (puller, store) = try makePuller()
        let pulled = try await puller.pull(try ImageReference(parsing: "127.0.0.1:\(proxy.port)/\(repository):v1"))
        #expect(pulled.manifest.layers[0].digest == layer)
        try verifyBlobs(store)
        let log = proxy.log()
        #expect(log.contains("CUT /v2/\(repository)/blobs/\(layer) after 1000000"))
        #expect(log.contains("REQ GET /v2/\(repository)/blobs/\(layer) range=bytes=1000000-"))
    }

    @Test func concurrentPullsOfOneImageShareTheStore() async throws {
        let repo = "\(Services.plain)/\(uniqueRepository("concurrent")):v1"
        try await TestImage.publish([TestImage.random(layers: 3, bytesPerLayer: 500_000)], to: repo)
        let ref = try ImageReference(parsing: repo)
        let (puller, store) = try makePuller()
        let other = ImagePuller(store: store, client: RegistryClient())
        let downloads = Locked(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in [puller, puller, other, other] {
                group.addTask {
                    _ = try await p.pull(ref) { event in
                        if case .layerDone(_, false) = event { downloads.update { $0 += 1 } }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(downloads.value == 3, "each layer is downloaded once")
        try verifyBlobs(store)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/ingest").filter { !$0.hasPrefix(".") }.allSatisfy { $0.hasSuffix(".partial") })
    }
}

/// Runs cut-proxy.py (see there: a fake fault in front of the real registry).
final class CutProxy: Sendable {
    let process: Process
    let port: Int
    let output: FileHandle
    let logPath: String

    init(targetPort: Int, match: String, cutAfter: Int) throws {
        logPath = Scratch.directory("proxy") + "/log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        output = FileHandle(forWritingAtPath: logPath)!
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("cut-proxy.py").path
        process.arguments = ["python3", script, "--target-port", "\(targetPort)", "--match", match, "--cut-after", "\(cutAfter)"]
        process.standardOutput = output
        try process.run()
        var found: Int?
        for _ in 0..<100 where found == nil {
            usleep(50_000)
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            found = text.split(separator: "\n").first { $0.hasPrefix("PORT ") }.flatMap { Int($0.dropFirst(5)) }
        }
        guard let found else { process.terminate(); throw TestFailure("cut proxy did not start") }
        port = found
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func stop() {
        // SIGKILL: a child of the test runner may inherit a mask that blocks SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
