import Docker
import Foundation
import ImageStore
import NIOCore
import Runtime
import OCI
import Registry
import Synchronization
import TestSupport
import Testing

/// The drivers that must pass the conformance suite: Docker, and the OCI
/// driver with each runtime (crun needs the host's cgroups as
/// Scripts/services/start leaves them).
enum Drivers {
    static let all = ["docker", "oci-runc"] + (Services.inCI || crunRuns ? ["oci-crun"] : [])

    /// crun is installed and the host's cgroups let it run (in CI it must).
    static var crunRuns: Bool { access("/usr/bin/crun", X_OK) == 0 && OCIDriver.crunAcceptsCgroups() }

    static func make(_ name: String, home: FnrtHome = FunctionImages.home) throws -> any ContainerDriver {
        switch name {
        case "docker":
            return try DockerDriver(docker: try DockerClient(), store: FunctionImages.store, home: home,
                                    instance: "test-\(UUID().uuidString.prefix(8))")
        case "oci", "oci-runc", "oci-crun":
            let runtime = ["oci-runc": "/usr/sbin/runc", "oci-crun": "/usr/bin/crun"][name]
            let driver = try OCIDriver(store: FunctionImages.store, home: home, instance: "test-\(UUID().uuidString.prefix(8))", runtime: runtime)
            if let runtime { #expect(driver.runtime == runtime) }
            return driver
        default: fatalError("unknown driver \(name)")
        }
    }
}

func spec(_ function: String, timeout: Duration = .seconds(20), startup: Duration = .seconds(20), config: [String: String] = [:]) -> FunctionSpec {
    var spec = FunctionSpec(app: "tests", name: function, image: "fns/\(function):test")
    spec.timeout = timeout
    spec.startupTimeout = startup
    spec.config = config
    return spec
}

/// Starts `spec`, waits for it, connects; the caller removes the container.
func startListening(_ driver: any ContainerDriver, _ spec: FunctionSpec) async throws -> (Container, FDKConnection) {
    try await driver.startListening(spec)
}

func call(_ connection: FDKConnection, _ body: String, headers: [(String, String)] = [], timeout: Duration = .seconds(10)) async -> CallOutcome {
    await connection.call(FDKRequest(deadline: Date() + 30, headers: headers, body: ByteBuffer(string: body)), timeout: timeout)
}

extension CallOutcome {
    var text: String {
        switch self {
        case .success(_, _, var body), .functionFailed(_, var body): body.readString(length: body.readableBytes) ?? ""
        default: ""
        }
    }
    var responseHeaders: [String: String] {
        if case .success(_, let headers, _) = self { return Dictionary(headers.map { ($0.0.lowercased(), $0.1) }) { $1 } }
        return [:]
    }
}

@Suite(.enabled(if: Services.available, Services.skipReason))
struct DriverConformanceTests {
    @Test(arguments: Drivers.all)
    func startCallAndRemove(driver name: String) async throws {
        let driver = try Drivers.make(name)
        let (container, connection) = try await startListening(driver, spec("hello"))
        let first = await call(connection, "conformance")
        #expect(first.text == "Hello, conformance!\n")
        #expect(first.callerStatus == 200)
        #expect(await call(connection, "again").text == "Hello, again!\n", "the connection stays open for the next call")
        #expect(try await driver.list().map(\.id) == [container.id])
        connection.close()
        try await driver.remove(container)
        #expect(try await driver.state(container) == .missing)
        #expect(!FileManager.default.fileExists(atPath: container.iofs))
        #expect(try await driver.list().isEmpty)
    }

    /// A home under which the containers' sockets would not fit a Unix
    /// socket address is refused when the driver is made (before anything
    /// is written under it), naming the home and the longest that fits; a
    /// home of exactly that length runs a function, one byte more is refused.
    @Test(arguments: Drivers.all)
    func aHomeTooLongForItsSocketsIsRefusedAndTheLongestThatFitsWorks(driver name: String) async throws {
        let base = Scratch.directory("long") + "/"
        let tooLong = base + String(repeating: "h", count: 100)
        let error = try #require(throws: ContainerError.self) { try Drivers.make(name, home: FnrtHome(path: tooLong)) }
        let message = String(describing: error)
        #expect(message.contains("the fnrt home \(tooLong) is too long"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: tooLong), "nothing is made under a refused home")
        let longest = try #require(message.firstMatch(of: /directory of at most (\d+) bytes$/).flatMap { Int($0.output.1) })

        let fitting = FnrtHome(path: base + String(repeating: "h", count: longest - base.utf8.count))
        #expect(fitting.path.utf8.count == longest)
        let driver = try Drivers.make(name, home: fitting)
        let (container, connection) = try await startListening(driver, spec("hello"))
        #expect(container.socketPath.utf8.count <= Container.maxSocketPathBytes)
        #expect(await call(connection, "long home").text == "Hello, long home!\n")
        connection.close()
        try await driver.remove(container)
        #expect(throws: ContainerError.self) { try Drivers.make(name, home: FnrtHome(path: fitting.path + "h")) }
    }

    /// Fn allows app and function names of 255 characters; such a function
    /// runs on every driver (a host name holds 64: the OCI runtimes refused
    /// one that long).
    @Test(arguments: Drivers.all)
    func aFunctionWithTheLongestNamesFnAllowsRuns(driver name: String) async throws {
        let driver = try Drivers.make(name)
        var long = spec("hello")
        long.app = "a" + String(repeating: "p", count: 254)
        long.name = "f-" + String(repeating: "n", count: 252) + "_"
        let (container, connection) = try await startListening(driver, long)
        #expect(await call(connection, "long names").text == "Hello, long names!\n")
        connection.close()
        try await driver.remove(container)
    }

    @Test(arguments: Drivers.all)
    func theContractsEnvironmentAndHeaders(driver name: String) async throws {
        let driver = try Drivers.make(name)
        let (container, connection) = try await startListening(driver, spec("echo", config: ["GREETING": "hi"]))
        defer { connection.close(); Task { try? await driver.remove(container) } }
        let outcome = await call(connection, "payload", headers: [("Content-Type", "text/x-test"), ("Fn-Http-H-X-Token", "abc")])
        let headers = outcome.responseHeaders
        #expect(outcome.text == "payload")
        #expect(headers["content-type"] == "text/x-test")
        #expect(headers["x-echo-env-fn_app_name"] == "tests")
        #expect(headers["x-echo-env-fn_fn_name"] == "echo")
        #expect(headers["x-echo-env-fn_memory"] == "128")
        #expect(headers["x-echo-env-fn_format"] == "http-stream")
        #expect(headers["x-echo-h-x-token"] == "abc")
        #expect(headers["x-echo-call-id"]?.isEmpty == false)
        #expect(headers["x-echo-deadline"]?.contains("T") == true)
    }

    /// An HTTP trigger's caller headers reach the function as
    /// `Fn-Http-H-<name>`; one that would add a line to the call is not sent.
    @Test func callersHeadersArriveAsFnHttpH() async throws {
        let driver = try Drivers.make("docker")
        let (container, connection) = try await startListening(driver, spec("echo"))
        defer { connection.close(); Task { try? await driver.remove(container) } }
        let request = FDKRequest(deadline: Date() + 30, clientHeaders: [("X-Trace", "abc"), ("X-Bad", "1\r\nFn-Call-Id: forged")],
                                 body: ByteBuffer(string: "x"))
        let headers = await connection.call(request, timeout: .seconds(10)).responseHeaders
        #expect(headers["x-echo-h-x-trace"] == "abc")
        #expect(headers["x-echo-h-x-bad"] == nil)
        #expect(headers["x-echo-call-id"].map { !$0.isEmpty && $0 != "forged" } == true)
    }

    @Test(arguments: Drivers.all)
    func aFailingFunctionGets502AndStaysHot(driver name: String) async throws {
        let driver = try Drivers.make(name)
        let (container, connection) = try await startListening(driver, spec("fail"))
        defer { connection.close(); Task { try? await driver.remove(container) } }
        let outcome = await call(connection, "")
        guard case .functionFailed(502, _) = outcome else { Issue.record("expected the function's 502, got \(outcome)"); return }
        #expect(outcome.text.contains("always fails"))
        #expect(!outcome.containerIsBroken)
        #expect(try await driver.state(container) == .running)
        guard case .functionFailed = await call(connection, "") else { Issue.record("the second call should reach the same container"); return }
    }

    @Test(arguments: Drivers.all)
    func aCrashMidCallIs502AndTheContainerIsGone(driver name: String) async throws {
        let driver = try Drivers.make(name)
        let (container, connection) = try await startListening(driver, spec("crash"))
        defer { Task { try? await driver.remove(container) } }
        let outcome = await call(connection, "")
        guard case .receiveError = outcome else { Issue.record("expected a receive error, got \(outcome)"); return }
        #expect(outcome.callerStatus == 502 && outcome.containerIsBroken)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await driver.state(container) != .running)
        #expect(await driver.logs(container, lines: 5).contains("crash: exiting mid-call"))
    }

    @Test(arguments: Drivers.all)
    func aCallPastItsTimeoutIs504(driver name: String) async throws {
        let driver = try Drivers.make(name)
        let (container, connection) = try await startListening(driver, spec("sleep"))
        defer { Task { try? await driver.remove(container) } }
        let outcome = await call(connection, "5000", timeout: .milliseconds(500))
        guard case .timedOut = outcome else { Issue.record("expected a timeout, got \(outcome)"); return }
        #expect(outcome.callerStatus == 504 && outcome.containerIsBroken)
    }

    @Test(arguments: Drivers.all)
    func neverListeningTimesOutWithTheLogs(driver name: String) async throws {
        let driver = try Drivers.make(name)
        // Time enough for the function to say it is up when every suite shares two cores (1 s was not, once).
        let function = spec("neverlisten", startup: .seconds(3))
        let container = try await driver.start(function)
        defer { Task { try? await driver.remove(container) } }
        await #expect {
            try await driver.waitUntilListening(container, spec: function, timeout: function.startupTimeout)
        } throws: { error in
            guard case ContainerError.startupTimeout(_, _, let logs) = error else { return false }
            return logs.contains("neverlisten: up, but not listening") && "\(error)".contains("did not listen within")
        }
    }

    /// A chatty function that stays hot keeps at most two files of 1 MiB of
    /// output on disk; before, all it ever wrote stayed until its container
    /// went (days of a hot function's logging could fill the disk). Its
    /// newest lines are kept: they are what a failed start reports.
    @Test(arguments: Drivers.all)
    func aChattyFunctionsOutputIsKeptWithinItsBound(driver name: String) async throws {
        let driver = try Drivers.make(name)
        let (container, connection) = try await startListening(driver, spec("echo"))
        defer { connection.close(); Task { try? await driver.remove(container) } }
        let sizes = [3 << 20, 2 << 20, 1 << 20]
        for bytes in sizes {
            #expect(await call(connection, "said", headers: [("Fn-Http-H-X-Echo-Log-Bytes", "\(bytes)")]).text == "said")
        }
        let newest = [String(repeating: "o", count: 99), "echo: logged \(1 << 20) bytes"]
        let keptNewest = await eventually { await driver.logs(container, lines: 2) == newest }
        let lines = await driver.logs(container, lines: 2)
        #expect(keptNewest, "\(lines.map { $0.prefix(120) })")
        let log = name == "docker"
            ? try await mustRun(["docker", "inspect", "--format", "{{.LogPath}}", container.id]).trimmingCharacters(in: .whitespacesAndNewlines)
            : "\(FunctionImages.home.path)/bundles/\(container.id)/output.log"
        let kept = [log, log + ".1"].map { (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0 }
        #expect(kept[0] > 0 && kept.reduce(0, +) <= 2 << 20, "\(sizes.reduce(0, +)) bytes written; \(kept) kept in \(log) and .1")
    }

    @Test(arguments: Drivers.all)
    func slowStartWithinItsTimeout(driver name: String) async throws {
        let driver = try Drivers.make(name)
        let (container, connection) = try await startListening(driver, spec("slowstart", startup: .seconds(5), config: ["SLOW_START_MS": "700"]))
        defer { connection.close(); Task { try? await driver.remove(container) } }
        #expect(await call(connection, "").text == "started slowly\n")
    }

    @Test(arguments: Drivers.all)
    func aMissingEntrypointFailsToStartWithTheReason(driver name: String) async throws {
        let driver = try Drivers.make(name)
        await #expect {
            let (container, connection) = try await startListening(driver, spec("broken"))
            connection.close()
            try await driver.remove(container)
        } throws: { "\($0)".contains("no-such-program") }
        #expect(try await driver.list().isEmpty, "a container that could not start is removed")
    }

    /// An image's `User` by name, as real Fn images give it (`USER fn`), is
    /// looked up in the image's own /etc/passwd and /etc/group: each driver
    /// runs the function as Docker does, with the same groups and HOME (the
    /// OCI driver refused names).
    /// (User, then uid, gid, groups and HOME as Docker sets them.)
    @Test(arguments: Drivers.all, [
        ("fn", "1001", "1002", "1002,50", "/home/fn"), ("fn:staff", "1001", "50", "50", "/home/fn"),
        ("1001", "1001", "1002", "1002,50", "/home/fn"), ("2000:60", "2000", "60", "60", "/"), ("3000", "3000", "0", "0", "/"),
    ])
    func anImageUserByNameIsLookedUpInTheImage(driver name: String, user: (String, String, String, String, String)) async throws {
        let driver = try Drivers.make(name)
        var function = spec("probe")
        function.image = try FunctionImages.probe(user: user.0)
        let (container, connection) = try await startListening(driver, function)
        let report = await call(connection, "").text
        let expected = "uid=\(user.1)\ngid=\(user.2)\ngroups=\(user.3)\nhome=\(user.4)\n"
        #expect(report.hasSuffix(expected), "\(user.0): \(report)")
        connection.close()
        try await driver.remove(container)
    }

    /// An image that sets no PATH and names its entrypoint by its bare name
    /// runs: the entrypoint is found on Docker's default PATH, on every driver.
    @Test(arguments: Drivers.all)
    func aBareEntrypointIsFoundOnTheDefaultPath(driver name: String) async throws {
        let driver = try Drivers.make(name)
        var function = spec("hello")
        function.image = "fns/nopath:test"
        let (container, connection) = try await startListening(driver, function)
        #expect(await call(connection, "path").text == "Hello, path!\n")
        connection.close()
        try await driver.remove(container)
    }

    /// A user the OCI driver cannot look up in the image fails the start by
    /// name; an /etc/passwd that is a link (here to the host's shadow file)
    /// or a FIFO is refused, never followed or waited on.
    @Test(arguments: Drivers.all.filter { $0.hasPrefix("oci") }, [
        ("nobody", FunctionImages.usersAndGroups, "user 'nobody' is not in the image's /etc/passwd"),
        ("fn:wheel", FunctionImages.usersAndGroups, "group 'wheel' is not in the image's /etc/group"),
        ("fn", [.directory("etc"), .symlink("etc/passwd", target: "/etc/shadow")], "cannot read /etc/passwd in the image: a link or not a plain file"),
        ("fn", [.directory("etc"), .fifo("etc/passwd")], "cannot read /etc/passwd in the image: not a plain file"),
    ] as [(String, [TarEntry], String)])
    func anImageUserThatCannotBeLookedUpFailsTheStartByName(driver name: String, image: (user: String, etc: [TarEntry], message: String)) async throws {
        let driver = try Drivers.make(name)
        var function = spec("probe")
        function.image = try FunctionImages.probe(user: image.user, etc: image.etc, tag: "bad-" + String(image.message.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFFFF }, radix: 16))
        let error = await #expect(throws: ContainerError.self) { _ = try await driver.startListening(function) }
        #expect(error.map { "\($0)" }?.contains(image.message) == true, "\(String(describing: error))")
        #expect(try await driver.list().isEmpty)
    }

    @Test(arguments: Drivers.all)
    func hardenedInsideAndOut(driver name: String) async throws {
        let driver = try Drivers.make(name)
        let (container, connection) = try await startListening(driver, spec("probe"))
        defer { connection.close(); Task { try? await driver.remove(container) } }
        let report = Dictionary(uniqueKeysWithValues: await call(connection, "").text.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        })
        #expect(report["interfaces"] == "lo", "no network but loopback")
        #expect(report["root_writable"] == "false")
        #expect(report["tmp_writable"] == "true")
        #expect(report["cap_eff"] == "0000000000000000")
        #expect(report["no_new_privs"] == "1")
        #expect(report["uid"] == "1000")

        if name == "docker" {
            let info = try await DockerClient().inspectContainer(container.id)
            let host = info["HostConfig"] as? [String: Any] ?? [:]
            #expect(host["NetworkMode"] as? String == "none")
            #expect(host["ReadonlyRootfs"] as? Bool == true)
            #expect(host["CapDrop"] as? [String] == ["ALL"])
            #expect((host["SecurityOpt"] as? [String])?.contains("no-new-privileges") == true)
            #expect(host["PidsLimit"] as? Int == 64)
            #expect(host["Memory"] as? Int == 128 << 20)
            #expect(host["MemorySwap"] as? Int == 128 << 20)
            #expect(host["Init"] as? Bool == true)
            #expect((host["Tmpfs"] as? [String: String])?["/tmp"]?.contains("size=32m") == true)
            #expect((host["Binds"] as? [String])?.first == "\(container.iofs):/tmp/iofs")
            let config = info["Config"] as? [String: Any] ?? [:]
            #expect(config["User"] as? String == "1000:1000")
            #expect((config["Labels"] as? [String: String])?["fnrt.function"] == "probe")
            #expect((config["Env"] as? [String])?.contains("FN_LISTENER=unix:/tmp/iofs/lsnr.sock") == true)
        }
    }
}

@Suite(.enabled(if: Services.available, Services.skipReason), .serialized)
struct RunCommandTests {
    /// The fnrt binary beside the test bundle, with the functions' store as its home.
    func fnrt(_ arguments: [String], input: String? = nil, home: FnrtHome = FunctionImages.home) async throws -> (Int32, String, String) {
        _ = FunctionImages.store
        return try await run(["FNRT_HOME=\(home.path)", CommandLineTests.fnrt] + arguments, input: input)
    }

    @Test(arguments: [
        (["run", "--data", "world", "fns/hello:test"], "Hello, world!\n"),
        (["run", "-H", "Content-Type: text/x-echo", "--data", "echoed", "fns/echo:test"], "echoed"),
        (["run", "--data", "50", "fns/sleep:test"], "slept 50 ms\n"),
        (["run", "-e", "SLOW_START_MS=300", "fns/slowstart:test"], "started slowly\n"),
    ])
    func runsEachWorkingSample(arguments: [String], expected: String) async throws {
        let (status, stdout, stderr) = try await fnrt(arguments)
        #expect(status == 0, "\(stderr)")
        #expect(stdout == expected)
    }

    @Test func readsTheBodyFromStandardInput() async throws {
        let (status, stdout, _) = try await fnrt(["run", "fns/hello:test"], input: "stdin")
        #expect(status == 0 && stdout == "Hello, stdin!\n")
    }

    @Test(arguments: [
        (["run", "fns/fail:test"], "the function failed (502): this function always fails"),
        // A broken call ends with the container's last lines of output, which its removal takes.
        (["run", "fns/crash:test"], "(502): the function closed the connection before answering; its last output:\n  | crash: exiting mid-call"),
        (["run", "--timeout", "1", "--data", "5000", "fns/sleep:test"], "timed out after 1 s (504)"),
        (["run", "--startup-timeout", "1", "fns/neverlisten:test"], "neverlisten: up, but not listening"),
        (["run", "fns/broken:test"], "no-such-program"),
        (["run", "\(Services.plain)/fns/not-there:1"], "not found"),
    ])
    func reportsEachFailure(arguments: [String], message: String) async throws {
        let (status, stdout, stderr) = try await fnrt(arguments)
        #expect(status != 0)
        #expect(stdout.isEmpty)
        #expect(stderr.hasPrefix("fnrt: ") && stderr.contains(message), "\(stderr)")
    }

    /// A header that would add a line to the call (or is no header at all) is refused before anything runs.
    @Test(arguments: [("X-A: one\r\nFn-Call-Id: forged", "must not hold a CR, LF or NUL"), ("Bad Name: x", "must be an HTTP token")])
    func refusesAHeaderThatIsNotOne(header: String, message: String) async throws {
        let (status, stdout, stderr) = try await fnrt(["run", "-H", header, "fns/echo:test"])
        #expect(status != 0)
        #expect(stdout.isEmpty)
        #expect(stderr.contains(message), "\(stderr)")
    }

    /// Config that cannot be an environment variable is refused before anything runs.
    @Test(arguments: ["=value", "NOEQUALS"])
    func refusesConfigThatIsNotKeyEqualsValue(pair: String) async throws {
        let (status, stdout, stderr) = try await fnrt(["run", "-e", pair, "fns/echo:test"])
        #expect(status != 0)
        #expect(stdout.isEmpty)
        #expect(stderr.contains("-e \(pair): expected KEY=VALUE"), "\(stderr)")
    }

    @Test func pullsAMissingImageThenRunsIt() async throws {
        let remote = "\(Services.plain)/\(uniqueRepository("fn-hello")):1"
        try await ImagePusher(store: FunctionImages.store, client: RegistryClient()).push("fns/hello:test", to: try ImageReference(parsing: remote))
        let home = Scratch.directory("run-home")
        let (status, stdout, stderr) = try await run(["FNRT_HOME=\(home)", CommandLineTests.fnrt, "run", "--data", "pulled", remote])
        #expect(status == 0, "\(stderr)")
        #expect(stdout == "Hello, pulled!\n")
    }

    /// `fnrt run` says on standard error what it loads into Docker, layer by layer.
    /// In this serialized suite: its run directories would otherwise meet `leavesNoContainerBehind`'s check.
    @Test func fnrtRunPrintsEachLoadedLayer() async throws {
        let (name, imageID) = try DockerImageLoadTests.uniqueHelloImage()
        let (status, stdout, stderr) = try await run(["FNRT_HOME=\(FunctionImages.home.path)", CommandLineTests.fnrt, "run", "--data", "cli", name])
        try await DockerImageLoadTests.removeFromDocker(imageID)
        #expect(status == 0, "\(stderr)")
        #expect(stdout == "Hello, cli!\n")
        let lines = stderr.split(separator: "\n").filter { $0.hasPrefix("fnrt: loading ") && $0.contains("\(name) into Docker: layer ") && $0.hasSuffix(")") }
        #expect(!lines.isEmpty, "stderr: \(stderr)")
    }

    /// A run that fails (a crash, a function that never listens) leaves no
    /// container, iofs directory, bundle or OCI state behind, on either driver.
    /// In a home of its own, so that nothing another suite runs meanwhile counts.
    @Test func leavesNoContainerBehind() async throws {
        let home = try RunningServer.makeHome()
        _ = try await fnrt(["run", "fns/crash:test"], home: home)
        _ = try await fnrt(["run", "--startup-timeout", "1", "fns/neverlisten:test"], home: home)
        _ = try await fnrt(["run", "--driver", "oci", "fns/crash:test"], home: home)
        _ = try await fnrt(["run", "--driver", "oci", "--startup-timeout", "1", "fns/neverlisten:test"], home: home)
        #expect(try await containers(of: home).isEmpty)
        for directory in ["iofs", "bundles"] {
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(home.path)/\(directory)").isEmpty, "\(directory)")
        }
        let states = try FileManager.default.contentsOfDirectory(atPath: "\(home.path)/oci-state")
        #expect(try states.allSatisfy { try FileManager.default.contentsOfDirectory(atPath: "\(home.path)/oci-state/\($0)").isEmpty }, "\(states)")
    }

    /// Ctrl-C (SIGINT), SIGTERM or SIGHUP while `fnrt run` waits for its
    /// function removes the run's container before fnrt ends; it was left
    /// running until the next `fnrt serve` on the home removed it.
    @Test(arguments: [("docker", SIGINT), ("docker", SIGHUP), ("oci", SIGTERM)])
    func anInterruptedRunRemovesItsContainer(driver: String, signal: Int32) async throws {
        let home = try RunningServer.makeHome()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.fnrt)
        process.arguments = ["run", "--driver", driver, "--data", "60000", "fns/sleep:test"]
        process.environment = ProcessInfo.processInfo.environment.merging(["FNRT_HOME": home.path]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        /// The run's containers: Docker's by label, the OCI runtime's by their processes.
        func running() async throws -> Int {
            if driver == "docker" { return try await containers(of: home).count }
            let (_, listing, _) = try await run(["ps", "-eo", "args"])
            return listing.split(separator: "\n").filter { $0.contains("--root \(home.path)/oci-state/") && $0.contains(" run ") }.count
        }
        #expect(try await eventually(within: .seconds(60)) { try await running() == 1 }, "the run's container started")
        kill(process.processIdentifier, signal)
        // Never a hang: a run that outlives its signal fails the test.
        let ended = await eventually(within: .seconds(30)) { !process.isRunning }
        if !ended { kill(process.processIdentifier, SIGKILL) }
        #expect(ended, "fnrt run still runs 30 s after the signal")
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal,
                "ends as the signal would: \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        #expect(try await eventually(within: .seconds(10)) { try await running() == 0 }, "no container is left")
    }
}

@Suite(.enabled(if: Services.available, Services.skipReason))
struct DockerImageLoadTests {
    /// The first start of an image with the docker driver loads it into
    /// Docker; each layer Docker did not have reports its progress.
    /// hello's image plus a layer no other image has, so Docker must load it;
    /// its name, and its Docker image ID (for removal).
    static func uniqueHelloImage() throws -> (name: String, imageID: String) {
        let store = FunctionImages.store
        let marker = UUID().uuidString.lowercased()
        let layer = try makeLayer([.text("load-marker", marker)])
        var (manifest, config) = try store.image("fns/hello:test")
        manifest.layers.append(try store.write(layer, mediaType: MediaType.ociLayerGzip))
        config.rootfs.diff_ids.append(try diffID(layer))
        manifest.config = try store.write(try JSONEncoder().encode(config), mediaType: MediaType.ociConfig)
        let name = "fns/hello-load-\(marker.prefix(8)):test"
        try store.tag(try store.write(try JSONEncoder().encode(manifest), mediaType: MediaType.ociManifest), as: name)
        return (name, "sha256:\(manifest.config.digest.encoded)")
    }

    static func removeFromDocker(_ imageID: String) async throws {
        try await DockerClient().call("DELETE", "/images/\(imageID)", query: ["force": "1"], expect: [200])
    }

    @Test func loadingAnImageIntoDockerReportsEachNewLayer() async throws {
        let store = FunctionImages.store
        let (name, imageID) = try Self.uniqueHelloImage()
        let marker = String(name.dropFirst("fns/hello-load-".count).prefix(8))

        let seen = Mutex<[ImageLoadProgress]>([])
        let driver = try DockerDriver(docker: try DockerClient(), store: store, home: FunctionImages.home, instance: "test-\(marker.prefix(8))",
                                      onImageLoad: { image, progress in
                                          #expect(image == name)
                                          seen.withLock { $0.append(progress) }
                                      })
        var function = spec("hello")
        function.image = name
        let (container, connection) = try await driver.startListening(function)
        #expect(await call(connection, "loaded").text == "Hello, loaded!\n")
        connection.close()
        try await driver.remove(container)

        try await Self.removeFromDocker(imageID)

        let progress = seen.withLock { $0 }
        let finished = progress.filter(\.isLayerLoaded)
        #expect(!finished.isEmpty, "no layer reported as loaded: \(progress)")
        #expect(finished.allSatisfy { $0.status == "Loading layer" && ($0.total ?? 0) > 0 && $0.layer != nil })
        // The new layer is about 1.5 KB as a tar: it is among the finished ones.
        #expect(finished.contains { ($0.total ?? 0) < 64 << 10 }, "\(finished)")
    }
}

@Suite(.enabled(if: Services.available, Services.skipReason))
struct DockerEventsTests {
    @Test func eventsFilteredByLabelFollowAContainersLife() async throws {
        let instance = "events-\(UUID().uuidString.prefix(8))"
        let docker = try DockerClient()
        let driver = try DockerDriver(docker: docker, store: FunctionImages.store, home: FunctionImages.home, instance: instance)
        let seen = Locked<[String]>([])
        let watcher = Task {
            for try await event in docker.events(filters: ["type": ["container"], "label": ["fnrt.instance=\(instance)"]]) {
                seen.update { $0.append(event.Action) }
                if event.Action == "destroy" { break }
            }
        }
        try await Task.sleep(for: .milliseconds(300))  // the subscription is open before the container exists
        let (container, connection) = try await startListening(driver, spec("hello"))
        connection.close()
        try await driver.remove(container)
        #expect(await eventually { seen.value.contains("destroy") })
        watcher.cancel()
        let actions = seen.value
        #expect(actions.first == "create")
        let start = try #require(actions.firstIndex(of: "start"), "\(actions)")
        let die = try #require(actions.firstIndex(of: "die"), "\(actions)")
        #expect(start < die)
    }
}

struct OCIRuntimeChoiceTests {
    /// crun where the cgroup layout lets it run, runc elsewhere.
    @Test(arguments: [
        (["cgroup.controllers": "cpu memory pids\n"], true),           // unified (cgroup v2)
        (["unified/cgroup.controllers": "\n", "memory/tasks": ""], true),  // hybrid, every controller on v1
        (["unified/cgroup.controllers": "hugetlb\n"], false),          // hybrid with a controller left on cgroup2
        (["memory/tasks": ""], false),                                 // legacy v1 only
    ])
    func crunOnlyWhereTheCgroupLayoutAllowsIt(files: [String: String], accepts: Bool) throws {
        let root = Scratch.directory("cgroup")
        for (path, content) in files {
            let file = URL(fileURLWithPath: root).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: file)
        }
        #expect(OCIDriver.crunAcceptsCgroups(root: root) == accepts)
    }

    /// Mount points made before the runtime runs, by any number of starts at
    /// once (crun making them itself raced: "cannot mkdir `proc`: File
    /// exists"), never through a symlink the image put there.
    @Test func mountPointsAreMadeOnceAndNeverThroughASymlink() async throws {
        let rootfs = Scratch.directory("rootfs"), outside = Scratch.directory("outside")
        #expect(symlink(outside, "\(rootfs)/tmp") == 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The OCI driver's mount destinations.
            let destinations = ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/tmp", "/tmp/iofs"]
            for _ in 0..<8 { group.addTask { try OCIDriver.makeMountPoints(in: rootfs, for: destinations) } }
            try await group.waitForAll()
        }
        for name in ["proc", "dev", "sys"] {
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: "\(rootfs)/\(name)", isDirectory: &isDirectory) && isDirectory.boolValue, "\(name)")
        }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(rootfs)/tmp") == outside)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }
}

@Suite(.enabled(if: Services.available, Services.skipReason))
struct OCIOrphanTests {
    static let runc = "/usr/sbin/runc", crun = "/usr/bin/crun"
    /// (left by, removed by): the same runtime, and the other one (the host
    /// got crun between a killed fnrt and the next, or FNRT_OCI_RUNTIME changed).
    static let pairs = [(runc, runc)] + (Drivers.all.contains("oci-crun") ? [(crun, crun), (runc, crun), (crun, runc)] : [])

    /// A container that a killed instance left (its state root under the
    /// same home) is stopped and removed by the next instance, whichever
    /// runtime each uses: its process ends, its directories go. The
    /// container of an instance whose process runs (this test's) stays.
    @Test(arguments: pairs)
    func anOrphanIsStoppedAndRemovedByTheNextInstance(leftBy: String, removedBy: String) async throws {
        let home = FnrtHome(path: Scratch.directory("oci-orphans"))
        let killed = try OCIDriver(store: FunctionImages.store, home: home, instance: "run-left", runtime: leftBy)
        let (container, connection) = try await startListening(killed, spec("hello"))
        connection.close()
        let live = try OCIDriver(store: FunctionImages.store, home: home, instance: RuntimeInstance.name("run"), runtime: leftBy)
        let (running, liveConnection) = try await startListening(live, spec("hello"))
        // The killed instance removes nothing: its container runs on.
        let (status, state, _) = try await run([leftBy, "--root", home.path + "/oci-state/run-left", "state", container.id])
        let pid = try #require(status == 0 ? (try JSONSerialization.jsonObject(with: Data(state.utf8)) as? [String: Any])?["pid"] as? Int32 : nil,
                               "\(leftBy) state: \(state)")
        #expect(kill(pid, 0) == 0)

        let next = try OCIDriver(store: FunctionImages.store, home: home, instance: "serve-next", runtime: removedBy)
        #expect(try await next.listOrphans().map(\.id) == [container.id])
        #expect(await eventually(within: .seconds(10)) { kill(pid, 0) != 0 }, "the orphan's process \(pid) still runs")
        #expect(!FileManager.default.fileExists(atPath: container.iofs))
        #expect(try await next.listOrphans().isEmpty)
        #expect(await call(liveConnection, "still").text == "Hello, still!\n", "a running instance's container is no orphan")
        liveConnection.close()
        try await live.remove(running)
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }  // after a failure: no process outlives the test
    }
}
