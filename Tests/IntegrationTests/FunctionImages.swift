import Foundation
import ImageStore
import OCI
import TestSupport
import Testing

/// The sample functions, packed from the binaries built beside the test
/// bundle into a store of their own, once per test run.
enum FunctionImages {
    static let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    static let home = FnrtHome(path: Scratch.root + "/functions")

    static let store: ContentStore = {
        LeftoverContainers.removed
        let store = try! ContentStore(home: home)
        for name in ["hello", "echo", "sleep", "fail", "crash", "slowstart", "neverlisten", "probe"] {
            try! ImagePacker.pack(binary: "\(binaries)/\(name)", into: store, as: "fns/\(name):test")
        }
        // An image whose entrypoint is not there.
        try! ImagePacker.pack(binary: "\(binaries)/hello", into: store, as: "fns/broken:test", arguments: [])
        let hello = try! store.resolve("fns/hello:test")!
        var manifest = try! JSONDecoder().decode(Manifest.self, from: store.read(hello.digest))
        var config = try! JSONDecoder().decode(ImageConfig.self, from: store.read(manifest.config.digest))
        config.config?.Entrypoint = ["/usr/local/bin/no-such-program"]
        manifest.config = try! store.write(try! JSONEncoder().encode(config), mediaType: MediaType.ociConfig)
        try! store.tag(try! store.write(try! JSONEncoder().encode(manifest), mediaType: MediaType.ociManifest), as: "fns/broken:test")
        // An image that sets no PATH and names its entrypoint by its bare name.
        config.config?.Entrypoint = ["hello"]
        config.config?.Env = []
        manifest.config = try! store.write(try! JSONEncoder().encode(config), mediaType: MediaType.ociConfig)
        try! store.tag(try! store.write(try! JSONEncoder().encode(manifest), mediaType: MediaType.ociManifest), as: "fns/nopath:test")
        return store
    }()

    /// The `/etc` of `probe(user:)`: `fn` is 1001, group 1002; `staff` is 50.
    static let usersAndGroups: [TarEntry] = [
        .directory("etc"),
        .text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n# a comment\nfn:x:1001:1002:Fn:/home/fn:/bin/sh\n"),
        .text("etc/group", "root:x:0:\nfn:x:1002:\nstaff:x:50:fn\n"),
    ]

    /// `probe` with a layer of `etc` added (by default `usersAndGroups`),
    /// its config saying `User: user`; `tag` names the variant.
    static func probe(user: String, etc: [TarEntry] = usersAndGroups, tag: String = "") throws -> String {
        let name = "fns/probe-user:" + (tag.isEmpty ? String(user.map { $0 == ":" ? "-" : $0 }) : tag)
        let probe = try #require(try store.resolve("fns/probe:test"))
        var manifest = try JSONDecoder().decode(Manifest.self, from: store.read(probe.digest))
        var config = try JSONDecoder().decode(ImageConfig.self, from: store.read(manifest.config.digest))
        let layer = try makeLayer(etc)
        manifest.layers.append(try store.write(layer, mediaType: MediaType.ociLayerGzip))
        config.rootfs.diff_ids.append(try diffID(layer))
        config.config?.User = user
        manifest.config = try store.write(try JSONEncoder().encode(config), mediaType: MediaType.ociConfig)
        try store.tag(try store.write(try JSONEncoder().encode(manifest), mediaType: MediaType.ociManifest), as: name)
        return name
    }
}
