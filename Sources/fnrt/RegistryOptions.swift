import ArgumentParser
import Foundation
import ImageStore
import OCI
import Registry

/// Options shared by commands that talk to a registry.
struct RegistryOptions: ParsableArguments {
    @Option(help: "User name for the registry (else $FNRT_REGISTRY_USERNAME, else Docker's config.json).")
    var username: String?

    @Flag(help: "Read the registry password from standard input (else $FNRT_REGISTRY_PASSWORD).")
    var passwordStdin = false

    @Option(name: .customLong("insecure-registry"), help: "A registry (host:port) to reach over plain HTTP; loopback ones always are.")
    var insecureRegistries: [String] = []

    func makeClient() throws -> RegistryClient {
        let environment = ProcessInfo.processInfo.environment
        var explicit: Credentials?
        if let user = username ?? environment["FNRT_REGISTRY_USERNAME"] {
            var password = environment["FNRT_REGISTRY_PASSWORD"] ?? ""
            if passwordStdin {
                password = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                    .trimmingCharacters(in: .newlines)
            }
            explicit = Credentials(username: user, password: password)
        } else if passwordStdin {
            throw ValidationError("--password-stdin needs --username")
        }
        var options = RegistryClientOptions()
        options.insecureRegistries = Set(insecureRegistries)
        let fromDocker = try CredentialStore.dockerConfig()
        return RegistryClient(credentials: CredentialStore(explicit: explicit, byRegistry: fromDocker), options: options)
    }
}

/// Opens the content store under `$FNRT_HOME`.
func openStore() throws -> ContentStore {
    try ContentStore(home: try FnrtHome.fromEnvironment())
}

/// Prints `error` as one line on standard error and exits non-zero.
func fail(_ error: any Error) -> ExitCode {
    FileHandle.standardError.write(Data("fnrt: \(error)\n".utf8))
    return ExitCode.failure
}

/// The name an image has in the store: as typed when an image has exactly
/// that name, else normalized the way pulls name images (`busybox` is
/// `docker.io/library/busybox:latest`).
func storeName(_ reference: String, in store: ContentStore) -> String {
    if (try? store.resolve(reference)) != nil { return reference }
    return (try? ImageReference(parsing: reference))?.description ?? reference
}

/// Prints rows as left-aligned columns two spaces apart; the first row is the header.
func printTable(_ rows: [[String]]) {
    guard let first = rows.first else { return }
    let widths = first.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
    for row in rows {
        print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
    }
}
