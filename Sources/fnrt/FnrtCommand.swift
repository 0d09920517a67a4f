import ArgumentParser
import Foundation

@main
struct Fnrt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fnrt",
        abstract: "A self-hosted serverless function runtime: pulls function images, runs them hot, routes calls to them.",
        discussion: "State lives under $FNRT_HOME (default ~/.fnrt); images in $FNRT_HOME/images, an OCI image layout.",
        subcommands: [Pull.self, Push.self, Images.self, Unpack.self, Image.self, Run.self, Serve.self, Tune.self]
    )
}
