import Foundation
import ImageStore
import OCI
import Testing
import TestSupport

/// A hostile image and what must come of it: refused (with words the error
/// must contain) or contained (unpacked, with nothing outside touched).
struct HostileCase: CustomTestStringConvertible, Sendable {
    enum Outcome: Sendable { case refused(String), contained }
    var name: String
    /// Layers; `OUTSIDE` in names and targets is replaced by the absolute path of the directory beside the destination.
    var layers: [[TarEntry]]
    var outcome: Outcome
    var limits = UnpackLimits()
    /// Raw layer bytes instead of `layers` (broken archives).
    var raw: (@Sendable (Data) -> Data)?
    var testDescription: String { name }
}

let hostileCases: [HostileCase] = [
    // Names that climb out of the root.
    HostileCase(name: "dot-dot file", layers: [[.text("../escaped", "x")]], outcome: .refused("climbs out of the root")),
    HostileCase(name: "dot-dot deep in the name", layers: [[.text("a/b/../../../escaped", "x")]], outcome: .refused("climbs out")),
    HostileCase(name: "dot-dot after an absolute prefix", layers: [[.text("/../escaped", "x")]], outcome: .refused("climbs out")),
    HostileCase(name: "dot-dot into the sentinel", layers: [[.text("../outside/sentinel.txt", "pwned")]], outcome: .refused("climbs out")),
    HostileCase(name: "dot-dot directory", layers: [[.directory("../outside/newdir")]], outcome: .refused("climbs out")),
    HostileCase(name: "dot-dot device node", layers: [[.charDevice("../dev-null", major: 1, minor: 3)]], outcome: .refused("climbs out")),
    // Absolute names land inside the root.
    HostileCase(name: "absolute file name", layers: [[.text("OUTSIDE/sentinel.txt", "pwned")]], outcome: .contained),
    // Symlinks written through, in the same layer and in a later one (CVE-2018-15664's static cousins, umoci CVE-2021-29136).
    HostileCase(name: "relative symlink then write through, same layer",
                layers: [[.symlink("up", target: "../../../../.."), .text("up/escaped", "x")]], outcome: .contained),
    HostileCase(name: "absolute symlink then write through, same layer",
                layers: [[.symlink("evil", target: "OUTSIDE"), .text("evil/sentinel.txt", "pwned")]], outcome: .contained),
    HostileCase(name: "symlink planted, written through in a later layer",
                layers: [[.symlink("evil", target: "OUTSIDE")], [.text("evil/sentinel.txt", "pwned"), .text("evil/new", "x")]], outcome: .contained),
    HostileCase(name: "symlink to root slash, used as a directory",
                layers: [[.symlink("etc", target: "/")], [.text("etc/escaped", "x")]], outcome: .contained),
    HostileCase(name: "symlink chain climbing step by step",
                layers: [[.symlink("a", target: ".."), .symlink("b", target: "a/.."), .text("b/escaped", "x")]], outcome: .contained),
    HostileCase(name: "directory entry through a symlink",
                layers: [[.symlink("d", target: "OUTSIDE")], [.directory("d/sub"), .text("d/sub/f", "x")]], outcome: .contained),
    HostileCase(name: "symlink replaced by a directory entry",
                layers: [[.symlink("d", target: "OUTSIDE"), .directory("d"), .text("d/sentinel.txt", "x")]], outcome: .contained),
    // Hardlinks pointing outside.
    HostileCase(name: "hardlink to a relative outside path", layers: [[.hardlink("h", target: "../outside/sentinel.txt")]], outcome: .refused("climbs out")),
    HostileCase(name: "hardlink to an absolute outside path", layers: [[.hardlink("h", target: "OUTSIDE/sentinel.txt")]], outcome: .refused("does not exist")),
    HostileCase(name: "hardlink through a planted symlink",
                layers: [[.symlink("s", target: "OUTSIDE")], [.hardlink("h", target: "s/sentinel.txt")]], outcome: .refused("does not exist")),
    HostileCase(name: "hardlink to a directory", layers: [[.directory("d"), .hardlink("h", target: "d")]], outcome: .refused("hardlink to directory")),
    HostileCase(name: "hardlink then write through it", layers: [[.text("f", "inside"), .hardlink("h", target: "f"), .text("h", "replaced")]], outcome: .contained),
    // Whiteouts aimed outside.
    HostileCase(name: "whiteout climbing out", layers: [[.text("../outside/.wh.sentinel.txt", "")]], outcome: .refused("climbs out")),
    HostileCase(name: "whiteout of dot-dot", layers: [[.directory("a"), .text("a/.wh..", "")]], outcome: .refused("whiteout of")),
    HostileCase(name: "whiteout through a planted symlink",
                layers: [[.symlink("s", target: "OUTSIDE")], [.whiteout("s/sentinel.txt")]], outcome: .contained),
    HostileCase(name: "opaque whiteout through a climbing symlink",
                layers: [[.symlink("s", target: "../outside")], [.opaque("s")]], outcome: .contained),
    HostileCase(name: "root entry as a symlink", layers: [[.symlink("./", target: "OUTSIDE"), .text("x", "x")]], outcome: .contained),
    // Loops and traps that must not hang.
    HostileCase(name: "symlink loop", layers: [[.symlink("a", target: "b"), .symlink("b", target: "a"), .text("a/x", "x")]], outcome: .refused("too many symbolic links")),
    HostileCase(name: "self-referencing symlink", layers: [[.symlink("l", target: "l"), .text("l/x", "x")]], outcome: .refused("too many symbolic links")),
    HostileCase(name: "file where a directory is needed", layers: [[.text("f", "x"), .text("f/child", "x")]], outcome: .refused("not a directory")),
    // Broken archives.
    HostileCase(name: "truncated archive", layers: [[.file("big", Data(repeating: 7, count: 200_000))]], outcome: .refused("cannot read the archive"),
                raw: { $0.prefix($0.count / 2) }),
    HostileCase(name: "not an archive at all", layers: [[]], outcome: .refused("cannot read the archive"), raw: { _ in Data("garbage, not a tar".utf8) }),
    // Bombs.
    HostileCase(name: "size bomb", layers: [[.file("zeros", Data(repeating: 0, count: 4 << 20))]], outcome: .refused("exceeds the limit of 1048576 bytes"),
                limits: UnpackLimits(maxBytes: 1 << 20, maxEntries: 100)),
    HostileCase(name: "entry-count bomb", layers: [(0..<500).map { .text("f\($0)", "") }], outcome: .refused("exceeds the limit of 100 entries"),
                limits: UnpackLimits(maxBytes: 1 << 20, maxEntries: 100)),
]

@Suite struct HostileLayerTests {
    @Test(arguments: hostileCases)
    func hostileLayerIsRefusedOrContained(_ hostile: HostileCase) throws {
        let sandbox = Scratch.path("hostile")
        let outside = sandbox + "/outside"
        try FileManager.default.createDirectory(atPath: outside + "/subdir", withIntermediateDirectories: true)
        try Data("sentinel".utf8).write(to: URL(fileURLWithPath: outside + "/sentinel.txt"))
        try Data("nested".utf8).write(to: URL(fileURLWithPath: outside + "/subdir/nested.txt"))
        defer { try? FileManager.default.removeItem(atPath: sandbox) }
        let store = try ContentStore(root: sandbox + "/store")
        let layers = try hostile.layers.map { entries in
            let resolved = entries.map { $0.replacingOutside(with: outside) }
            let data = try makeLayer(resolved, compression: .none)
            return hostile.raw?(data) ?? data
        }
        let manifest = try storeImage(layers, compression: .none, in: store, as: "hostile")
        let before = try TreeSnapshot(sandbox, ignoring: ["dest", "cache"])
        let unpacker = try Unpacker(store: store, cacheDirectory: sandbox + "/cache", limits: hostile.limits)
        let destination = sandbox + "/dest"

        switch hostile.outcome {
        case .refused(let words):
            #expect {
                try unpacker.unpack(manifest.layers, into: destination)
            } throws: { error in
                let text = "\(error)"
                return text.contains(words) && text.contains("layer ")
            }
            #expect(!FileManager.default.fileExists(atPath: destination), "nothing half-unpacked is left")
        case .contained:
            try unpacker.unpack(manifest.layers, into: destination)
        }
        let after = try TreeSnapshot(sandbox, ignoring: ["dest", "cache"])
        #expect(after.differences(from: before) == [], "nothing outside the destination changed")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox).sorted() == (FileManager.default.fileExists(atPath: destination) ? ["cache", "dest", "outside", "store"] : ["cache", "outside", "store"]),
                "no temporary directory is left beside the destination")
    }
}

extension TarEntry {
    func replacingOutside(with path: String) -> TarEntry {
        func r(_ s: String) -> String { s.replacingOccurrences(of: "OUTSIDE", with: path) }
        return switch self {
        case .directory(let n, let m, let u, let g): .directory(r(n), mode: m, uid: u, gid: g)
        case .file(let n, let d, let m, let u, let g, let x): .file(r(n), d, mode: m, uid: u, gid: g, xattrs: x)
        case .symlink(let n, let t): .symlink(r(n), target: r(t))
        case .hardlink(let n, let t): .hardlink(r(n), target: r(t))
        case .fifo(let n): .fifo(r(n))
        case .charDevice(let n, let a, let b): .charDevice(r(n), major: a, minor: b)
        case .whiteout(let n): .whiteout(r(n))
        case .opaque(let n): .opaque(r(n))
        }
    }
}
