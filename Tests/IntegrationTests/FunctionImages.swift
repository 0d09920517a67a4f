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
        try! ImagePacker.pack(binary: "\(binaries)/hello", into: store, as: "fns/broken:test", arguments: [])
        let hello = try! store.resolve("fns/hello:test")!
        var manifest = try! JSONDecoder().decode(Manifest.self, from: store.read(hello.digest))
        var config = try! JSONDecoder().decode(ImageConfig.self, from: store.read(manifest.config.digest))
        config.config?.Entrypoint = ["/usr/local/bin/no-such-program"]
        manifest.config = try! store.write(try! JSONEncoder().encode(config), mediaType: MediaType.ociConfig)
        try! store.tag(try! store.write(try! JSONEncoder().encode(manifest), mediaType: MediaType.ociManifest), as: "fns/broken:test")
        return store
    }()
}
