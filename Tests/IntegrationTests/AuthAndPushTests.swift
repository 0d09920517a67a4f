import Foundation
import ImageStore
import OCI
import Registry
import TestSupport
import Testing

@Suite(.enabled(if: Services.available, Services.skipReason), .serialized)
struct AuthTests {
    @Test func basicAuthNeedsTheRightPassword() async throws {
        let repo = "\(Services.basic)/\(uniqueRepository("basic")):v1"
        try await TestImage.publish([TestImage.random(layers: 1, bytesPerLayer: 10_000)], to: repo, credentials: Services.credentials)
        let ref = try ImageReference(parsing: repo)

        let (anonymous, _) = try makePuller()
        await #expect {
            try await anonymous.pull(ref)
        } throws: { "\($0)".contains("not authorized by \(Services.basic)") && "\($0)".contains("requires a user name and password") }

        let (wrong, _) = try makePuller(credentials: Credentials(username: Services.credentials.username, password: "wrong"))
        await #expect {
            try await wrong.pull(ref)
        } throws: { "\($0)".contains("not authorized by \(Services.basic)") && "\($0)".contains("UNAUTHORIZED") }

        let (right, store) = try makePuller(credentials: Services.credentials)
        _ = try await right.pull(ref)
        #expect(try store.images().map(\.reference) == [repo])
    }

    @Test func bearerTokensAnonymousForPullAndWithCredentialsForPush() async throws {
        let repository = uniqueRepository("token")
        let repo = "\(Services.token)/\(repository):v1"
        try await TestImage.publish([TestImage.random(layers: 2, bytesPerLayer: 10_000)], to: repo, credentials: Services.credentials)
        let ref = try ImageReference(parsing: repo)

        // Anonymous token flow, as public registries offer it.
        let (anonymous, store) = try makePuller()
        _ = try await anonymous.pull(ref)
        #expect(try store.images().map(\.reference) == [repo])

        // An anonymous token carries no push right: the registry refuses.
        let target = try ImageReference(parsing: "\(Services.token)/\(repository)-copy:v1")
        await #expect {
            try await ImagePusher(store: store, client: RegistryClient()).push(repo, to: target)
        } throws: { "\($0)".contains("not authorized by \(Services.token)") }

        // With credentials the token grants push.
        let client = RegistryClient(credentials: CredentialStore(explicit: Services.credentials))
        try await ImagePusher(store: store, client: client).push(repo, to: target)
        let (again, _) = try makePuller()
        _ = try await again.pull(target)

        // Wrong credentials: the token server's answer is in the error.
        let (wrong, _) = try makePuller(credentials: Credentials(username: "fnrt", password: "nope"))
        await #expect {
            try await wrong.pull(ref)
        } throws: { "\($0)".contains("token server") && "\($0)".contains("401") && "\($0)".contains("wrong user name or password") }
    }
}

@Suite(.enabled(if: Services.available, Services.skipReason), .serialized)
struct PushTests {
    @Test(arguments: [nil, Int64(100_000)])
    func pushedImageIsWhatSkopeoAndAPullSee(chunkSize: Int64?) async throws {
        let source = "\(Services.plain)/\(uniqueRepository("src")):v1"
        try await TestImage.publish([TestImage.random(layers: 2, bytesPerLayer: 400_000)], to: source)
        let (puller, store) = try makePuller()
        let pulled = try await puller.pull(try ImageReference(parsing: source))

        let target = try ImageReference(parsing: "\(Services.plain)/\(uniqueRepository("dst")):pushed")
        let digest = try await ImagePusher(store: store, client: RegistryClient(), chunkSize: chunkSize).push(source, to: target)
        #expect(digest == pulled.manifestDescriptor.digest)
        let inspect = try await mustRun(["skopeo", "inspect", "--tls-verify=false", "docker://\(target)"])
        #expect(inspect.contains(digest.description))

        let (fresh, freshStore) = try makePuller()
        let again = try await fresh.pull(target)
        #expect(again.manifestDescriptor.digest == digest)
        try verifyBlobs(freshStore)
        // Pushing again uploads nothing: every blob is already there.
        try await ImagePusher(store: store, client: RegistryClient(), chunkSize: chunkSize).push(source, to: target)
    }

    @Test func pushOfAnUnknownImageNamesIt() async throws {
        let store = try ContentStore(root: Scratch.directory("store"))
        await #expect {
            try await ImagePusher(store: store, client: RegistryClient()).push("nothing:here", to: try ImageReference(parsing: "\(Services.plain)/x:1"))
        } throws: { "\($0)".contains("nothing:here is not in the store") }
    }
}

@Suite(.enabled(if: Services.available, Services.skipReason), .serialized)
struct CommandLineTests {
    /// The fnrt binary built beside the test bundle.
    static let fnrt = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fnrt").path

    /// The fnrt binary beside the test bundle, with `home` as its home.
    func fnrt(_ arguments: [String], home: String, input: String? = nil) async throws -> (Int32, String, String) {
        try await run(["FNRT_HOME=\(home)", "DOCKER_CONFIG=\(home)/docker", Self.fnrt] + arguments, input: input)
    }

    @Test func pullImagesAndFailures() async throws {
        let home = Scratch.directory("home")
        let repo = "\(Services.basic)/\(uniqueRepository("cli")):v1"
        try await TestImage.publish([TestImage.random(layers: 2, bytesPerLayer: 50_000)], to: repo, credentials: Services.credentials)

        let (status, stdout, stderr) = try await fnrt(["pull", "-q", "--username", Services.credentials.username, "--password-stdin", repo],
                                                home: home, input: Services.credentials.password + "\n")
        #expect(status == 0, "\(stderr)")
        #expect(stdout.hasPrefix("\(repo)@sha256:"))
        #expect(stdout.split(separator: "\n").count == 1)

        let (_, listing, _) = try await fnrt(["images", "-q"], home: home)
        #expect(listing == repo + "\n")

        // Not a terminal: plain lines, one per layer.
        let (_, plain, _) = try await fnrt(["pull", "--username", Services.credentials.username, "--password-stdin", repo],
                                     home: home, input: Services.credentials.password)
        #expect(plain.components(separatedBy: "Already exists").count == 3)
        #expect(!plain.contains("\u{1B}["))

        // Credentials from Docker's config.json.
        try FileManager.default.createDirectory(atPath: home + "/docker", withIntermediateDirectories: true)
        let auth = Data("\(Services.credentials.username):\(Services.credentials.password)".utf8).base64EncodedString()
        try Data(#"{"auths":{"\#(Services.basic)":{"auth":"\#(auth)"}}}"#.utf8).write(to: URL(fileURLWithPath: home + "/docker/config.json"))
        #expect(try await fnrt(["pull", "-q", repo], home: home).0 == 0)

        // Unpack into a new directory; an existing one is refused.
        let target = home + "/unpacked"
        let (unpackStatus, unpacked, unpackError) = try await fnrt(["unpack", repo, target], home: home)
        #expect(unpackStatus == 0, "\(unpackError)")
        #expect(unpacked.contains("2 layers"))
        #expect(FileManager.default.fileExists(atPath: target + "/layer1/data.bin"))

        for (arguments, message) in [
            (["unpack", repo, target], "File exists"),
            (["unpack", "nothing:here", home + "/x"], "is not in the store"),
            (["pull", "\(Services.plain)/\(uniqueRepository("none")):x"], "not found"),
            (["pull", "Bad Reference"], "invalid image reference"),
            (["pull", "--platform", "linux", "busybox"], "invalid platform"),
            (["push", "not/in/store:1"], "is not in the store"),
            (["image", "rm", "not/in/store:1"], "not in the store: not/in/store:1"),
        ] {
            let (status, stdout, stderr) = try await fnrt(arguments, home: home)
            #expect(status != 0)
            #expect(stdout.isEmpty)
            #expect(stderr.hasPrefix("fnrt: ") && stderr.contains(message), "\(arguments): \(stderr)")
            #expect(stderr.split(separator: "\n").count == 1, "one line: \(stderr)")
        }

        // Removed, then pruned: its two layers, config and manifest go, and the store is empty.
        #expect(try await fnrt(["image", "rm", repo], home: home).1 == "Removed \(repo)\n")
        #expect(try await fnrt(["images", "-q"], home: home).1.isEmpty)
        let (_, wouldPrune, _) = try await fnrt(["image", "prune", "--dry-run"], home: home)
        #expect(wouldPrune.hasPrefix("Would remove 4 blobs (10") && wouldPrune.hasSuffix("would keep 0 images.\n"), "\(wouldPrune)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: home + "/images/blobs/sha256").count == 4)
        let (pruneStatus, pruned, pruneError) = try await fnrt(["image", "prune"], home: home)
        #expect(pruneStatus == 0, "\(pruneError)")
        #expect(pruned.hasPrefix("Removed 4 blobs (10") && pruned.hasSuffix("kept 0 images.\n"), "\(pruned)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: home + "/images/blobs/sha256").isEmpty)
    }
}

@Suite struct TuneCommandTests {
    @Test func generatesSimulatesAndWritesTheReportAndPlot() async throws {
        let directory = Scratch.directory("tune")
        let fnrt = CommandLineTests.fnrt
        let (generated, _, generateError) = try await run([fnrt, "tune", "generate", directory, "--functions", "300", "--seed", "5"])
        #expect(generated == 0, "\(generateError)")
        let (status, stdout, stderr) = try await run([fnrt, "tune", "\(directory)/invocations.csv", "--memory", "\(directory)/memory.csv",
                                                "--policy", "fixed:10m", "--policy", "hybrid", "--output", "\(directory)/report.json",
                                                "--plot", "\(directory)/plot.svg"])
        #expect(status == 0, "\(stderr)")
        #expect(stdout.contains("fixed:10m") && stdout.contains("hybrid") && stdout.contains("recommended idle timeouts"))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory)/report.json"))) as? [String: Any]
        let policies = report?["policies"] as? [[String: Any]] ?? []
        #expect(policies.map { $0["name"] as? String } == ["fixed:10m", "hybrid"])
        #expect(policies.allSatisfy { ($0["invocations"] as? Int ?? 0) > 0 && $0["coldStarts"] != nil && $0["idleMemoryGBSeconds"] != nil })
        #expect((report?["recommendations"] as? [Any])?.count == 300)
        let svg = try String(contentsOfFile: "\(directory)/plot.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("hybrid") && svg.hasSuffix("</svg>\n"))

        let (badStatus, _, badError) = try await run([fnrt, "tune", "\(directory)/memory.csv"])
        #expect(badStatus != 0 && badError.contains("memory.csv:1: expected the header HashOwner,HashApp,HashFunction,Trigger"))
    }
}
