import ArgumentParser
import Foundation

/// Every command sets its `commandName`: deriving it from the type's name
/// costs a scan of the binary's protocol conformances at each start
/// (milliseconds of every `fnrt run`'s cold start in the static build).
@main
struct Fnrt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fnrt",
        abstract: "A self-hosted serverless function runtime: pulls function images, runs them hot, routes calls to them.",
        discussion: "State lives under $FNRT_HOME (default ~/.fnrt); images in $FNRT_HOME/images, an OCI image layout.",
        subcommands: [Pull.self, Push.self, Images.self, Unpack.self, Image.self, Run.self, Serve.self, Tune.self]
    )
}
