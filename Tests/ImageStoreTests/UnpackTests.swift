import CArchive
import Foundation
import ImageStore
import OCI
import Testing
import TestSupport

/// The layers of the differential test: every whiteout, link and replacement case.
let semanticsLayers: [[TarEntry]] = [
    [
        .directory("etc"), .text("etc/passwd", "root:x:0:0\n"), .text("etc/group", "root:x:0:\n"),
        .directory("usr"), .directory("usr/bin"), .file("usr/bin/tool", Data("v1".utf8), mode: 0o4755),
        .hardlink("usr/bin/tool-link", target: "usr/bin/tool"),
        .directory("a"), .directory("a/b"), .directory("a/b/c", mode: 0o700), .text("a/b/c/deep", "deep"), .text("a/keep-not", "lower"),
        .symlink("lib", target: "usr/lib"), .symlink("etc-rel", target: "../etc"), .symlink("dangling", target: "/nowhere"),
        .directory("x"), .text("x/inside", "x"), .text("y", "was a file"),
        .file("home-file", Data("owned".utf8), mode: 0o600, uid: 1000, gid: 1000),
        .file("with-xattr", Data("x".utf8), xattrs: ["user.fnrt": "yes"]),
        .file("empty", Data()), .directory("tmp", mode: 0o1777), .fifo("run-fifo"), .charDevice("dev-null", major: 1, minor: 3),
        .directory("gone"), .directory("gone/sub"), .text("gone/sub/file", "bye"),
        .symlink("link-to-replace", target: "etc"),
    ],
    [
        .whiteout("etc/passwd"), .text("etc/hosts", "127.0.0.1 localhost\n"),
        .opaque("a"), .text("a/new", "new in layer 2"),
        .file("usr/bin/tool", Data("v2".utf8), mode: 0o755),
        .directory("lib"), .text("lib/libc.so", "libc"),
        .text("x", "x is a file now"),
        .directory("y"), .text("y/child", "y is a directory now"),
        .whiteout("gone"),
        .text("link-to-replace", "a file where a symlink was"),
    ],
    [
        .hardlink("etc/group-link", target: "etc/group"),
        .directory("gone"), .text("gone/again", "back"),
        .whiteout("dangling"), .whiteout("never-existed"), .whiteout("no/such/dir/file"),
        .directory("etc", mode: 0o750),
    ],
]

@Suite struct UnpackTests {
    let sandbox = Scratch.path("unpack")

    func makeStore() throws -> ContentStore { try ContentStore(root: sandbox + "/store") }

    @Test(arguments: [LayerCompression.gzip, .zstd, .none])
    func appliesLayersWithOCISemantics(compression: LayerCompression) throws {
        let store = try makeStore()
        let layers = try semanticsLayers.map { try makeLayer($0, compression: compression) }
        let manifest = try storeImage(layers, compression: compression, in: store, as: "semantics")
        let unpacker = try Unpacker(store: store, cacheDirectory: sandbox + "/cache")
        let root = sandbox + "/root"
        let report = try unpacker.unpack(manifest.layers, into: root)
        #expect(report.layersApplied == 3)

        func read(_ path: String) -> String? { FileManager.default.contents(atPath: "\(root)/\(path)").map { String(decoding: $0, as: UTF8.self) } }
        #expect(read("etc/passwd") == nil)
        #expect(read("etc/hosts") == "127.0.0.1 localhost\n")
        #expect(read("a/new") == "new in layer 2")
        #expect(read("a/keep-not") == nil && read("a/b/c/deep") == nil)
        #expect(read("usr/bin/tool") == "v2")
        #expect(read("usr/bin/tool-link") == "v1", "a hardlink keeps the content it was made with")
        #expect(read("lib/libc.so") == "libc")
        #expect(read("x") == "x is a file now")
        #expect(read("y/child") == "y is a directory now")
        #expect(read("gone/sub/file") == nil && read("gone/again") == "back")
        #expect(read("link-to-replace") == "a file where a symlink was")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/etc-rel") == "../etc")
        #expect(!FileManager.default.fileExists(atPath: root + "/dangling"))
        let names = try FileManager.default.subpathsOfDirectory(atPath: root)
        #expect(!names.contains { $0.contains(".wh.") }, "whiteout entries never appear")
        var st = stat()
        lstat(root + "/etc/group-link", &st)
        #expect(st.st_nlink == 2)
        lstat(root + "/home-file", &st)
        #expect(st.st_uid == 1000 && st.st_mode & 0o7777 == 0o600)
        lstat(root + "/tmp", &st)
        #expect(st.st_mode & 0o7777 == 0o1777)
        lstat(root + "/etc", &st)
        #expect(st.st_mode & 0o7777 == 0o750)
        lstat(root + "/etc/hosts", &st)
        #expect(st.st_mtim.tv_sec == 1_700_000_000)
        lstat(root + "/run-fifo", &st)
        #expect(st.st_mode & S_IFMT == S_IFIFO)
        var value = [UInt8](repeating: 0, count: 16)
        #expect(getxattr(root + "/with-xattr", "user.fnrt", &value, 16) == 3)
    }

    @Test func matchesUmociUnpack() throws {
        guard access("/usr/bin/umoci", X_OK) == 0 || ProcessInfo.processInfo.environment["CI"] == "true" else {
            print("skipping: umoci is not installed (Scripts/services/install installs it)")
            return
        }
        let store = try makeStore()
        try storeImage(try semanticsLayers.map { try makeLayer($0) }, in: store, as: "semantics")
        let unpacker = try Unpacker(store: store, cacheDirectory: sandbox + "/cache")
        let ours = sandbox + "/ours"
        try unpacker.unpack(try unpacker.layers(ofImage: "semantics"), into: ours)
        let bundle = sandbox + "/bundle"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/umoci")
        process.arguments = ["unpack", "--image", "\(store.root):semantics", bundle]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        // umoci's own bookkeeping sits beside rootfs; directory mtimes change as umoci creates children.
        let theirs = try TreeSnapshot(bundle + "/rootfs", directoryTimes: false)
        let mine = try TreeSnapshot(ours, directoryTimes: false)
        #expect(mine.differences(from: theirs) == [])
        #expect(mine.nodes.count >= 25, "the comparison covers the whole tree")
    }
}
