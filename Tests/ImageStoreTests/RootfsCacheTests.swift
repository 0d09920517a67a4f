import Foundation
import ImageStore
import OCI
import Testing
import TestSupport

@Suite struct RootfsCacheTests {
    let sandbox = Scratch.path("cache")

    @Test func unpacksOnceAndSharesBaseLayersWithoutTouchingThem() throws {
        let store = try ContentStore(root: sandbox + "/store")
        let base = try makeLayer([.directory("etc"), .text("etc/os-release", "base"), .text("etc/shared", "from base")])
        let runtime = try makeLayer([.directory("usr"), .text("usr/runtime", "rt")])
        let functionV1 = try makeLayer([.text("func", "v1")])
        let functionV2 = try makeLayer([.text("func", "v2"), .text("etc/shared", "changed by v2"), .whiteout("usr/runtime")])
        let v1 = try storeImage([base, runtime, functionV1], in: store, as: "fn:v1")
        let v2 = try storeImage([base, runtime, functionV1, functionV2], in: store, as: "fn:v2")
        let cache = try Unpacker(store: store, cacheDirectory: sandbox + "/rootfs")

        let first = try cache.rootfs(for: v1.layers)
        #expect(first.layersApplied == 3 && first.layersReused == 0)
        let again = try cache.rootfs(for: v1.layers)
        #expect(again.path == first.path && again.layersApplied == 0, "a cached root is reused as it is")

        let second = try cache.rootfs(for: v2.layers)
        #expect(second.layersReused == 3 && second.layersApplied == 1, "v2 starts from v1's root")
        func read(_ root: String, _ path: String) -> String? {
            FileManager.default.contents(atPath: "\(root)/\(path)").map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(read(second.path, "func") == "v2")
        #expect(read(second.path, "etc/shared") == "changed by v2")
        #expect(read(second.path, "usr/runtime") == nil)
        // The root v2 started from is exactly as it was.
        #expect(read(first.path, "func") == "v1")
        #expect(read(first.path, "etc/shared") == "from base")
        #expect(read(first.path, "usr/runtime") == "rt")
        // Only finished roots are in the cache directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox + "/rootfs").sorted() == [first.path, second.path].map { ($0 as NSString).lastPathComponent }.sorted())
    }

    @Test func aFailedUnpackLeavesNoRootBehind() throws {
        let store = try ContentStore(root: sandbox + "/store")
        let manifest = try storeImage([try makeLayer([.text("ok", "x")]), try makeLayer([.text("../bad", "x")])], in: store, as: "bad")
        let cache = try Unpacker(store: store, cacheDirectory: sandbox + "/rootfs")
        #expect(throws: UnpackError.self) { try cache.rootfs(for: manifest.layers) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox + "/rootfs").isEmpty)
    }

    /// A pull killed mid-unpack (Ctrl-C, SIGKILL) left its half-made root
    /// for good (86 MB from one Ctrl-C of a 240 MB pull). The next unpacker
    /// removes the temporary roots, and the store the temporary files, of
    /// processes that are gone, as the next `fnrt unpack` into a directory
    /// does beside it; a running process's stay, as do names of another form.
    @Test func temporaryRootsAndFilesOfAKilledProcessGoWithTheNextUnpackerOrStore() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["30"]
        try child.run()
        let maker = try #require(ProcessIdentity(runningProcess: child.processIdentifier))
        let rootfs = sandbox + "/rootfs", ingest = sandbox + "/store/ingest"
        _ = try ContentStore(root: sandbox + "/store")
        let killed = "\(rootfs)/.tmp-\(maker)-0badc0de", killedFile = "\(ingest)/.tmp-\(maker)-0badc0de"
        let killedUnpack = "\(sandbox)/out/.fnrt-unpack-\(maker)-0badc0de"  // `fnrt unpack DIR` killed: beside DIR
        let live = "\(rootfs)/.tmp-\(ProcessIdentity.current)-600dc0de", other = "\(rootfs)/.tmp-3F2504E0-4F89-11D3-9A0C-0305E82C3301"
        for directory in [killed + "/usr/lib", killedUnpack + "/etc", live, other] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        #expect(FileManager.default.createFile(atPath: killed + "/usr/lib/half", contents: Data("half".utf8)))
        #expect(FileManager.default.createFile(atPath: killedFile, contents: Data("{}".utf8)))

        _ = try Unpacker(store: try ContentStore(root: sandbox + "/store"), cacheDirectory: rootfs)
        #expect(FileManager.default.fileExists(atPath: killed) && FileManager.default.fileExists(atPath: killedFile), "its maker still runs")
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()

        let store = try ContentStore(root: sandbox + "/store")
        let unpacker = try Unpacker(store: store, cacheDirectory: rootfs)
        #expect(!FileManager.default.fileExists(atPath: killed) && !FileManager.default.fileExists(atPath: killedFile))
        let image = try storeImage([try makeLayer([.text("ok", "x")])], in: store, as: "small")
        _ = try unpacker.unpack(image.layers, into: "\(sandbox)/out/root")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(sandbox)/out") == ["root"])
        #expect(FileManager.default.fileExists(atPath: live) && FileManager.default.fileExists(atPath: other))
    }

    /// A process killed and not yet reaped by its parent (a zombie: what a
    /// killed `fnrt serve` is until its supervisor or shell waits for it)
    /// is not running: what it left is removed, its containers too.
    @Test func aKilledProcessIsNotRunningBeforeItsParentReapsIt() throws {
        // The shell starts `sleep`, prints its ID, and becomes a `sleep` that never reaps it.
        let parent = Process()
        parent.executableURL = URL(fileURLWithPath: "/bin/sh")
        parent.arguments = ["-c", "sleep 30 >/dev/null & echo $!; exec sleep 30 >/dev/null"]
        let output = Pipe()
        parent.standardOutput = output
        try parent.run()
        defer {
            kill(parent.processIdentifier, SIGKILL)
            parent.waitUntilExit()
        }
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        let child = try #require(pid_t(line.trimmingCharacters(in: .whitespacesAndNewlines)))
        let maker = try #require(ProcessIdentity(runningProcess: child))
        #expect(maker.isRunning)
        let leftover = "\(sandbox)/rootfs/.tmp-\(maker)-0badc0de"
        try FileManager.default.createDirectory(atPath: leftover, withIntermediateDirectories: true)

        kill(child, SIGKILL)
        let zombie = (0..<100).contains { _ in
            usleep(20_000)
            return ((try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? "").contains(") Z ")
        }
        try #require(zombie, "the killed child waits for its parent as a zombie")
        #expect(!maker.isRunning)
        _ = try Unpacker(store: try ContentStore(root: sandbox + "/store"), cacheDirectory: sandbox + "/rootfs")
        #expect(!FileManager.default.fileExists(atPath: leftover))
    }

    @Test func refusesLayersThatAreNotTar() throws {
        let store = try ContentStore(root: sandbox + "/store")
        let blob = try store.write(Data("{}".utf8), mediaType: "application/vnd.example.not-a-layer")
        let cache = try Unpacker(store: store, cacheDirectory: sandbox + "/rootfs")
        #expect {
            try cache.rootfs(for: [blob])
        } throws: { "\($0)".contains("application/vnd.example.not-a-layer is not a tar layer") }
    }
}
