import Foundation
import ImageStore
import OCI
import Registry
import Synchronization
import Testing
import TestSupport

/// The local services Scripts/services/start runs, as the tests reach them.
enum Services {
    static let environment = ProcessInfo.processInfo.environment
    static let servicesDir = environment["FNRT_SERVICES_DIR"] ?? "/var/tmp/fnrt-services"
    static let plain = "127.0.0.1:" + (environment["FNRT_REGISTRY_PORT"] ?? "5000")
    static let basic = "127.0.0.1:" + (environment["FNRT_AUTH_REGISTRY_PORT"] ?? "5001")
    static let token = "127.0.0.1:" + (environment["FNRT_TOKEN_REGISTRY_PORT"] ?? "5002")
    static let credentials = Credentials(username: environment["FNRT_REGISTRY_USER"] ?? "fnrt",
                                         password: environment["FNRT_REGISTRY_SECRET"] ?? "fnrt-secret")
    static let inCI = environment["CI"] == "true"

    /// True when the plain registry answers. In CI the tests run regardless
    /// (and fail if it is down): there the services must be up.
    static let available: Bool = {
        if inCI { return true }
        let (status, _, _) = (try? runBlocking(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://\(plain)/v2/"])) ?? (1, "", "")
        return status == 0
    }()

    static let skipReason: Comment = "the local registries are not running: start them with Scripts/services/start"
}

/// Runs a command on a thread of its own, so that the tests' waits and the
/// schedulers in this process keep the cooperative pool (one thread per core:
/// two blocked commands stalled every timer of the process for a second in CI);
/// returns its exit status, standard output and standard error.
@discardableResult
func run(_ arguments: [String], input: String? = nil) async throws -> (Int32, String, String) {
    try await runOffPool { try runBlocking(arguments, input: input) }
}

/// `run` on the calling thread: only for one-time checks outside any test.
@discardableResult
func runBlocking(_ arguments: [String], input: String? = nil) throws -> (Int32, String, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), inPipe = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inPipe
    try process.run()
    if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
    try inPipe.fileHandleForWriting.close()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// Runs a command that must succeed.
@discardableResult
func mustRun(_ arguments: [String]) async throws -> String {
    let (status, stdout, stderr) = try await run(arguments)
    guard status == 0 else {
        throw TestFailure("\(arguments.joined(separator: " ")) exited \(status): \(stderr)")
    }
    return stdout
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Containers that a killed test run left in the shared dockerd (their
/// `fnrt.home` lies in the scratch directory of a test process that is
/// gone): removed once per run, before the sample functions are first used.
enum LeftoverContainers {
    static let removed: Void = {
        let format = "{{.ID}} {{.Label \"fnrt.home\"}}"
        guard let (status, listing, _) = try? runBlocking(["docker", "ps", "-a", "--filter", "label=fnrt.home", "--format", format]),
              status == 0 else { return }
        let stale = listing.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ", maxSplits: 1)
            return fields.count == 2 && Scratch.isStale(String(fields[1])) ? String(fields[0]) : nil
        }
        if !stale.isEmpty { _ = try? runBlocking(["docker", "rm", "-f"] + stale) }
    }()
}

/// Builds images in an OCI layout (fnrt's own store code writes it) and
/// publishes them with skopeo, so every test pulls something a real peer pushed.
struct TestImage {
    /// One platform's files, one layer per element.
    var layers: [[(String, Data)]]
    var platform = Platform.current

    /// Unique random content, so that no two tests share blobs by accident.
    static func random(layers: Int, bytesPerLayer: Int, platform: Platform = .current) -> TestImage {
        TestImage(layers: (0..<layers).map { n in
            [("layer\(n)/data.bin", Data((0..<bytesPerLayer).map { _ in UInt8.random(in: 0...255) })),
             ("layer\(n)/name.txt", Data("layer \(n) \(UUID())\n".utf8))]
        }, platform: platform)
    }

    /// Writes the image to `store` and returns its manifest descriptor.
    func write(to store: ContentStore) throws -> Descriptor {
        var diffIDs: [Digest] = []
        var descriptors: [Descriptor] = []
        for files in layers {
            let layer = try makeLayer(files.map { TarEntry.file($0.0, $0.1) })
            descriptors.append(try store.write(layer, mediaType: MediaType.ociLayerGzip))
            diffIDs.append(try diffID(layer))
        }
        let config = ImageConfig(platform: platform, config: .init(Cmd: ["/hello"]), diffIDs: diffIDs, created: "2026-01-01T00:00:00Z")
        let configDescriptor = try store.write(try JSONEncoder().encode(config), mediaType: MediaType.ociConfig)
        let manifest = Manifest(config: configDescriptor, layers: descriptors)
        var descriptor = try store.write(try JSONEncoder().encode(manifest), mediaType: MediaType.ociManifest)
        descriptor.platform = platform
        return descriptor
    }

    /// Pushes images to `destination` with skopeo (an index when several).
    static func publish(_ images: [TestImage], to destination: String, credentials: Credentials? = nil) async throws {
        let layout = Scratch.directory("layout")
        let store = try ContentStore(root: layout)
        let manifests = try images.map { try $0.write(to: store) }
        if manifests.count == 1 {
            try store.tag(manifests[0], as: "image")
        } else {
            let index = try store.write(try JSONEncoder().encode(Index(manifests: manifests)), mediaType: MediaType.ociIndex)
            try store.tag(index, as: "image")
        }
        var arguments = ["skopeo", "copy", "-q", "--dest-tls-verify=false"]
        if manifests.count > 1 { arguments.append("--all") }
        if let credentials { arguments += ["--dest-creds", "\(credentials.username):\(credentials.password)"] }
        try await mustRun(arguments + ["oci:\(layout):image", "docker://\(destination)"])
        try? FileManager.default.removeItem(atPath: layout)
    }
}

/// A fresh store and a puller with fast retries.
func makePuller(credentials: Credentials? = nil, root: String? = nil) throws -> (ImagePuller, ContentStore) {
    let store = try ContentStore(root: root ?? Scratch.directory("store"))
    var options = RegistryClientOptions()
    options.retryDelay = .milliseconds(20)
    let client = RegistryClient(credentials: CredentialStore(explicit: credentials), options: options)
    return (ImagePuller(store: store, client: client), store)
}

/// A unique repository name for one test.
func uniqueRepository(_ name: String) -> String { "test/\(name)-\(UUID().uuidString.prefix(8).lowercased())" }

/// Checks every blob file in the store against its digest.
func verifyBlobs(_ store: ContentStore) throws {
    let dir = store.root + "/blobs/sha256"
    for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
        let digest = Digest.sha256(of: try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)")))
        #expect(digest.encoded == name, "blob \(name) does not match its name")
    }
}

/// A value shared with concurrent closures.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
    func update(_ change: (inout Value) -> Void) { mutex.withLock { change(&$0) } }
}
