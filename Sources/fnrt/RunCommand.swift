import ArgumentParser
import Docker
import Foundation
import HTTP1Wire
import ImageStore
import NIOCore
import OCI
import Registry
import Runtime

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a function image for one call: pull it if missing, start a container, call it, remove it.",
        discussion: "The body comes from --data or standard input; the response body is printed. Exits non-zero with the reason when the function fails (502), times out (504) or does not start.")

    @Argument(help: "The function image (pulled when not in the store).")
    var image: String

    @Option(name: .shortAndLong, help: "The call's body (default: standard input, when it is not a terminal).")
    var data: String?

    @Option(name: .customShort("H"), help: "A request header, Name: value (repeatable).")
    var header: [String] = []

    @Option(name: .customShort("e"), help: "Function config as KEY=VALUE, given to the function as environment (repeatable).")
    var env: [String] = []

    @Option(help: "Memory in MB.")
    var memory = 128

    @Option(help: "Call timeout in seconds.")
    var timeout = 30

    @Option(help: "Start-up timeout in seconds.")
    var startupTimeout = 5

    @Option(help: "The container driver: docker (through dockerd) or oci (crun or runc on fnrt's own unpacked root filesystem).")
    var driver = "docker"

    @Flag(help: "Print timings to standard error.")
    var timings = false

    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        do {
            guard ["docker", "oci"].contains(driver) else { throw ValidationError("--driver \(driver): use docker or oci") }
            let home = try FnrtHome.fromEnvironment()
            let store = try ContentStore(home: home)
            var name = storeName(image, in: store)
            if try store.resolve(name) == nil {
                let ref = try ImageReference(parsing: image)
                _ = try await ImagePuller(store: store, client: try registry.makeClient()).pull(ref)
                name = ref.description
            }
            var spec = FunctionSpec(app: "run", name: (name.split(separator: "/").last.map(String.init) ?? name).split(separator: ":").first.map(String.init) ?? name, image: name)
            spec.memoryMB = memory
            spec.timeout = .seconds(timeout)
            spec.startupTimeout = .seconds(startupTimeout)
            for pair in env {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else { throw ValidationError("-e \(pair): expected KEY=VALUE") }
                spec.config[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            var headers: [(String, String)] = []
            for line in header {
                guard let colon = line.firstIndex(of: ":") else { throw ValidationError("-H \(line): expected Name: value") }
                let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
                let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                guard isFieldName(name) else { throw ValidationError("-H \(line): the name must be an HTTP token (letters, digits, !#$%&'*+-.^_`|~)") }
                guard isSendableFieldValue(value) else { throw ValidationError("-H \(line): the value must not hold a CR, LF or NUL") }
                headers.append((name, value))
            }
            let body: Data
            if let data { body = Data(data.utf8) } else if isatty(STDIN_FILENO) == 0 { body = FileHandle.standardInput.readDataToEndOfFile() } else { body = Data() }

            let instance = RuntimeInstance.name("run")
            let containers: any ContainerDriver = driver == "oci"
                ? try OCIDriver(store: store, home: home, instance: instance)
                : try DockerDriver(docker: try DockerClient(), store: store, home: home, instance: instance, onImageLoad: Self.reportImageLoad)
            let report = try await InterruptCleanup(removing: containers).guarding {
                try await FunctionRunner(driver: containers).run(spec, body: ByteBuffer(bytes: body), headers: headers) { outcome in
                    // The answer first; the container's removal follows.
                    if case .success(_, _, let responseBody) = outcome {
                        FileHandle.standardOutput.write(Data(responseBody.readableBytesView))
                    }
                }
            }
            if timings {
                FileHandle.standardError.write(Data("fnrt: started in \(formatDuration(report.startup)), call took \(formatDuration(report.call))\n".utf8))
            }
            let output = report.end + (report.output.isEmpty ? "" : ContainerError.describing(output: report.output))
            switch report.outcome {
            case .success(let status, _, _):
                if status >= 400 { throw fail(RunFailure("the function answered HTTP \(status)")) }
            case .functionFailed(let status, var responseBody):
                let text = (responseBody.readString(length: responseBody.readableBytes) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                throw fail(RunFailure((status == 504 ? "the function timed out (504)" : "the function failed (502)" + (text.isEmpty ? "" : ": \(text)")) + output))
            case .invalidResponse(let status):
                throw fail(RunFailure("invalid function response: the FDK answered \(status) (502)" + output))
            case .receiveError(let reason):
                throw fail(RunFailure("error receiving the function's response (502): \(reason)" + output))
            case .timedOut:
                throw fail(RunFailure("the function timed out after \(timeout) s (504); its container was killed" + output))
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }
}

extension Run {
    /// The first run of an image with the docker driver loads it into Docker:
    /// a line on standard error as each layer is loaded.
    @Sendable static func reportImageLoad(image: String, progress: ImageLoadProgress) {
        guard progress.isLayerLoaded else { return }
        let layer = progress.layer.map { "layer \($0)" } ?? "a layer"
        FileHandle.standardError.write(Data("fnrt: loading \(image) into Docker: \(layer) loaded (\(formatBytes(progress.total ?? 0)))\n".utf8))
    }
}

struct RunFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct Image: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "image", abstract: "Build, remove and prune function images.", subcommands: [Pack.self, Remove.self, Prune.self])

    struct Pack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pack",
            abstract: "Pack a built program and the shared libraries it loads into a one-layer image in fnrt's store.")

        @Argument(help: "The executable, e.g. .build/release/hello.")
        var binary: String

        @Argument(help: "The name to give the image, e.g. 127.0.0.1:5000/fns/hello:1 (push it with fnrt push).")
        var reference: String

        func run() async throws {
            do {
                let store = try openStore()
                let name = (try? ImageReference(parsing: reference))?.description ?? reference
                let descriptor = try ImagePacker.pack(binary: binary, into: store, as: name)
                print("Packed \(binary) as \(name) digest \(descriptor.digest)")
            } catch {
                throw fail(error)
            }
        }
    }
}
