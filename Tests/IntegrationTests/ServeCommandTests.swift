import Foundation
import ImageStore
import OCI
import TestSupport
import Testing

/// The `fnrt serve` program itself: signals and restarts as an operator sees them.
@Suite(.enabled(if: Services.available, Services.skipReason))
struct ServeCommandTests {
    /// Starts `fnrt serve` on an ephemeral port; returns the process, its base URL and its log file.
    /// `softOpenFiles`: started with that soft limit of open files, as a shell's `ulimit -Sn` sets it.
    func launch(home: FnrtHome, options: [String] = ["--log-level", "warning"], environment: [String: String] = [:],
                softOpenFiles: Int? = nil) async throws -> (Process, String, String) {
        let log = "\(home.path)/serve-\(UUID().uuidString.prefix(6)).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        let fnrt = "\(FunctionImages.binaries)/fnrt", arguments = ["serve", "--listen", "127.0.0.1:0"] + options
        if let softOpenFiles {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -Sn \(softOpenFiles) && exec \"$0\" \"$@\"", fnrt] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: fnrt)
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment.merging(["FNRT_HOME": home.path]) { $1 }) { $1 }
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: "serving on ") {
                let url = text[range.upperBound...].prefix { !$0.isNewline }
                return (process, String(url), log)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw TestFailure("fnrt serve did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// Waits for `process` to end, off the cooperative pool.
    func exit(_ process: Process) async {
        _ = try? await runOffPool { process.waitUntilExit() }
    }

    func curl(_ arguments: [String]) async throws -> String { try await mustRun(["curl", "-sS"] + arguments) }

    /// Creates app `ops` and its function `function`; returns the function's id.
    func register(base: String, function: String, image: String, idleTimeout: Int = 30) async throws -> String {
        func post(_ path: String, _ body: String) async throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(try await curl(["-X", "POST", "\(base)\(path)", "-d", body]).utf8)) as? [String: Any] ?? [:]
        }
        let app = try await post("/v2/apps", #"{"name":"ops"}"#)["id"] as? String ?? ""
        guard let id = try await post("/v2/fns", #"{"name":"\#(function)","app_id":"\#(app)","image":"\#(image)","idle_timeout":\#(idleTimeout)}"#)["id"] as? String else {
            throw TestFailure("could not register \(function)")
        }
        return id
    }

    /// SIGHUP too (a closed terminal, an SSH session ending): it ended the
    /// process at once, leaving its containers until the next start.
    @Test(arguments: [SIGTERM, SIGHUP])
    func aSignalFinishesTheCallInFlightThenRemovesEveryContainer(signal: Int32) async throws {
        let home = try RunningServer.makeHome()
        let (process, base, log) = try await launch(home: home)
        let id = try await register(base: base, function: "nap", image: "fns/sleep:test")
        #expect(try await curl(["-X", "POST", "\(base)/invoke/\(id)", "-d", "10"]) == "slept 10 ms\n")

        let slow = Task { try await run(["curl", "-sS", "-X", "POST", "\(base)/invoke/\(id)", "-d", "2000"]) }
        // SIGTERM once the slow call holds the container (its queue wait is the second one
        // measured), not after a guessed delay: on a loaded machine curl may connect late.
        let inFlight = try await eventually(within: .seconds(20)) {
            try await run(["curl", "-sS", "\(base)/metrics"]).1.contains(#"fnrt_queue_wait_seconds_count{function="ops/nap"} 2"#)
        }
        #expect(inFlight, "the slow call reached the container")
        kill(process.processIdentifier, signal)
        let (status, body, error) = try await slow.value
        #expect(status == 0, "\(error)")
        #expect(body == "slept 2000 ms\n", "the call in flight finishes")
        await exit(process)
        #expect(process.terminationStatus == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(try await containers(of: home).isEmpty, "no container is left behind")
    }

    /// What fnrt cannot serve with is refused by name, and fnrt exits: a
    /// port in use (the local registry's), a port out of range (once taken
    /// modulo 65536: 99999 served on 34463), an API off loopback without a
    /// token, a trace file it cannot open (the message named no path).
    @Test(arguments: [
        (["--listen", Services.plain], "cannot listen on \(Services.plain): Address already in use"),
        (["--listen", "127.0.0.1:99999"], "port 99999 is out of range"),
        (["--listen", "0.0.0.0:0"], "listening on 0.0.0.0 needs an API token"),
        (["--listen", "127.0.0.1:0", "--trace", "/nonexistent-fnrt/trace.jsonl"],
         "open the invocation trace /nonexistent-fnrt/trace.jsonl: No such file or directory"),
    ])
    func whatItCannotServeWithIsRefusedByName(options: [String], message: String) async throws {
        let home = Scratch.directory("serve-refused")
        let (status, stdout, stderr) = try await run(["FNRT_HOME=\(home)", "\(FunctionImages.binaries)/fnrt", "serve", "--log-level", "warning"] + options)
        #expect(status != 0)
        #expect(stdout.isEmpty)
        #expect(stderr.contains("fnrt: \(message)"), "\(stderr)")
    }

    /// A container engine that does not answer is reported at start, with
    /// where fnrt looked; the server serves all the same (the engine may
    /// come up later).
    @Test func anEngineThatDoesNotAnswerIsReportedAtStart() async throws {
        let home = FnrtHome(path: Scratch.directory("serve-no-engine"))
        let (process, base, log) = try await launch(home: home, environment: ["DOCKER_HOST": "unix://\(home.path)/no-engine.sock"])
        defer { process.terminate(); process.waitUntilExit() }
        #expect(try await curl(["\(base)/health"]).contains("ok"))
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("warning") && text.contains("the container engine does not answer") && text.contains("no-engine.sock"), "\(text)")
    }

    /// The gateway's connections write their access lines themselves, not
    /// through swift-log's metadata; an operator reads one line per request
    /// in one format whichever part of the server answered.
    @Test func everyRequestGetsOneAccessLineInOneFormat() async throws {
        let home = try RunningServer.makeHome()
        let specs = "\(home.path)/specs"
        try FileManager.default.createDirectory(atPath: specs, withIntermediateDirectories: true)
        try Data(#"{"displayName": "stock", "pathPrefix": "/s", "specification": {"routes": [{"path": "/hi", "methods": ["GET"], "backend": {"type": "STOCK_RESPONSE_BACKEND", "status": 200, "body": "hi"}}]}}"#.utf8)
            .write(to: URL(fileURLWithPath: "\(specs)/stock.json"))
        let (process, base, log) = try await launch(home: home, options: ["--log-level", "info", "--specs", specs])
        #expect(try await curl(["\(base)/s/hi"]) == "hi")  // the gateway's connection handler
        _ = try await curl(["\(base)/s/nope"])  // the same, a 404 from the deployment
        _ = try await curl(["\(base)/health"])  // Hummingbird
        process.terminate()
        await exit(process)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        let format = #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} info fnrt: client=127\.0\.0\.1 hb\.request\.id=([0-9a-f]{16,32}) us=\d+ \[Server\] GET (\S+) (\d{3})$/#
        let lines = text.split(separator: "\n").filter { $0.contains("[Server] GET ") }
        let parsed = lines.compactMap { try? format.wholeMatch(in: $0) }
        #expect(parsed.count == lines.count, "every access line in the format: \(lines)")
        #expect(parsed.map { "\($0.output.2) \($0.output.3)" } == ["/s/hi 200", "/s/nope 404", "/health 200"], "\(text)")
        #expect(Set(parsed.map { String($0.output.1) }).count == 3, "a request id each: \(lines)")
        #expect(!text.contains("created the deployments directory"), "\(text)")

        // A --specs directory that does not exist (a typo) is created, and the log says so.
        let (second, _, secondLog) = try await launch(home: home, options: ["--log-level", "info", "--specs", "\(home.path)/spces"])
        second.terminate()
        await exit(second)
        #expect(try String(contentsOfFile: secondLog, encoding: .utf8).contains("created the deployments directory, which did not exist"))
    }

    /// Started under a low soft limit of open files (hosts commonly set
    /// 1,024; 256 here), serve raises it to the hard limit: more clients
    /// than the soft limit, connected at once, are all answered. Before,
    /// the clients past the limit waited for an answer that never came.
    @Test func moreClientsAtOnceThanTheSoftOpenFilesLimitAreAllAnswered() async throws {
        var own = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &own)
        try #require(own.rlim_max >= 1024, "this test opens 400 connections; the hard limit of open files is \(own.rlim_max)")
        if own.rlim_cur < 1024 {
            own.rlim_cur = own.rlim_max
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &own)
        }
        let home = try RunningServer.makeHome()
        // Answered clients stay connected (no client timeout in the test's time), holding their descriptors.
        let (process, base, log) = try await launch(home: home, options: ["--log-level", "warning", "--client-timeout", "3600"], softOpenFiles: 256)
        defer { process.terminate(); process.waitUntilExit() }
        let port = try #require(Int(base.split(separator: ":").last ?? ""))
        let clients = try (0..<400).map { _ in try RawConnection(port: port) }
        for client in clients { try client.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n") }
        let answered = try await runOffPool {
            var answered = 0
            for client in clients {
                guard (try? client.receive(through: #"{"status":"ok"}"#))?.hasPrefix("HTTP/1.1 200") == true else { break }  // 30 s without an answer
                answered += 1
            }
            return answered
        }
        #expect(answered == clients.count, "\(answered) of \(clients.count) answered: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// What an operator does to update a function's image: the same name,
    /// pulled (here: tagged) again, then `fnrt image prune`. While `fnrt
    /// serve` runs the function, it keeps the image it pinned: the next
    /// container, after the first went idle, started from an image the
    /// store no longer had ("not in the store"), and a prune would have
    /// removed it. An image Docker lost since it was loaded is loaded
    /// again. Once the function changes, its image is the one its name
    /// now names, and prune removes the old one and Docker's copy of it
    /// (the pin went with the change: a server kept every image it ever ran).
    @Test func aServedFunctionKeepsItsImageWhenItsNameMovesAndThroughPrune() async throws {
        let home = try RunningServer.makeHome()
        let store = try ContentStore(home: home)
        // `hello` with a label of its own: an image, and a Docker image ID, no other test uses.
        try FunctionImages.variant(of: "fns/hello:test", as: "fns/hello:moving", in: store) {
            $0.config?.Labels = ["fnrt.test": UUID().uuidString]
        }
        let pinned = try #require(try store.resolve("fns/hello:moving"))
        let dockerImage = "sha256:" + (try JSONDecoder().decode(Manifest.self, from: store.read(pinned.digest))).config.digest.encoded
        func prune(_ options: [String] = []) async throws -> String {
            try await mustRun(["FNRT_HOME=\(home.path)", "\(FunctionImages.binaries)/fnrt", "image", "prune"] + options)
        }

        let (process, base, log) = try await launch(home: home)
        let id = try await register(base: base, function: "moving", image: "fns/hello:moving", idleTimeout: 1)
        #expect(try await curl(["-X", "POST", "\(base)/invoke/\(id)"]) == "Hello, world!\n")
        try store.tag(try #require(try store.resolve("fns/echo:test")), as: "fns/hello:moving")
        // Docker's copies stay: blobs of images other tests were adding as the home was made are unnamed here.
        _ = try await prune(["--keep-docker"])
        #expect(try store.resolve("fns/hello:moving@\(pinned.digest)") != nil, "a running server's image stays")
        // Its container goes at its idle timeout; the next call starts another from the same image.
        #expect(try await eventually(within: .seconds(20)) { try await containers(of: home).isEmpty }, "the container stops at its 1 s idle timeout")
        // Docker's copy goes too (`docker image rm`, a prune under another home): it is loaded again.
        _ = try await mustRun(["docker", "image", "rm", dockerImage])
        let again = try await curl(["-X", "POST", "\(base)/invoke/\(id)"])
        #expect(again == "Hello, world!\n", "\(again); log: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")

        // A change of the function moves it to what its image's name now names;
        // once the old container has gone, prune removes the old image and Docker's copy.
        _ = try await curl(["-X", "PUT", "\(base)/v2/fns/\(id)", "-d", #"{"timeout": 20}"#])
        #expect(try await curl(["-X", "POST", "\(base)/invoke/\(id)", "-d", "echoed"]) == "echoed")
        #expect(try await eventually(within: .seconds(20)) { try await containers(of: home).isEmpty }, "both containers stop at the idle timeout")
        let output = try await prune()
        #expect(output.contains("1 image in Docker"), "\(output)")
        #expect(try store.resolve("fns/hello:moving@\(pinned.digest)") == nil, "the server no longer pins it")
        #expect(try await run(["docker", "image", "inspect", dockerImage]).0 != 0, "Docker's copy is removed")
        #expect(try await curl(["-X", "POST", "\(base)/invoke/\(id)", "-d", "still"]) == "still")
        process.terminate()
        await exit(process)
    }

    @Test func afterSIGKILLTheNextServeRemovesTheOrphansAndStillKnowsTheFunctions() async throws {
        let home = try RunningServer.makeHome()
        var (process, base, _) = try await launch(home: home)
        let id = try await register(base: base, function: "hi", image: "fns/hello:test")
        #expect(try await curl(["-X", "POST", "\(base)/invoke/\(id)"]) == "Hello, world!\n")
        kill(process.processIdentifier, SIGKILL)
        await exit(process)
        #expect(try await containers(of: home).count == 1, "a killed server leaves its container")

        (process, base, _) = try await launch(home: home)
        #expect(try await containers(of: home).isEmpty, "the next server removes it before serving")
        #expect(try await curl(["-X", "POST", "\(base)/invoke/\(id)"]) == "Hello, world!\n")
        process.terminate()
        await exit(process)
        #expect(try await containers(of: home).isEmpty)
    }
}
