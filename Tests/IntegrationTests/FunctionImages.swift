import Foundation
import ImageStore
import OCI
import TestSupport

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
        try! variant(of: "fns/hello:test", as: "fns/broken:test", in: store) { $0.config?.Entrypoint = ["/usr/local/bin/no-such-program"] }
        // An image that sets no PATH and names its entrypoint by its bare name.
        try! variant(of: "fns/hello:test", as: "fns/nopath:test", in: store) {
            $0.config?.Entrypoint = ["hello"]
            $0.config?.Env = []
        }
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
        try variant(of: "fns/probe:test", as: name, in: store, adding: try makeLayer(etc)) { $0.config?.User = user }
        return name
    }

    /// `base` with its config edited and, when given, a layer added on top, tagged `name`.
    static func variant(of base: String, as name: String, in store: ContentStore, adding layer: Data? = nil,
                                _ edit: (inout ImageConfig) -> Void) throws {
        guard let descriptor = try store.resolve(base) else { throw TestFailure("no image \(base) in the test store") }
        var manifest = try JSONDecoder().decode(Manifest.self, from: store.read(descriptor.digest))
        var config = try JSONDecoder().decode(ImageConfig.self, from: store.read(manifest.config.digest))
        if let layer {
            manifest.layers.append(try store.write(layer, mediaType: MediaType.ociLayerGzip))
            config.rootfs.diff_ids.append(try diffID(layer))
        }
        edit(&config)
        manifest.config = try store.write(try JSONEncoder().encode(config), mediaType: MediaType.ociConfig)
        try store.tag(try store.write(try JSONEncoder().encode(manifest), mediaType: MediaType.ociManifest), as: name)
    }
}
