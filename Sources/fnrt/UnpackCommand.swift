import ArgumentParser
import Foundation
import ImageStore
import OCI

struct Unpack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpack",
        abstract: "Unpack an image's layers from fnrt's store into a new directory.",
        discussion: "Applies the layers in order with the OCI whiteout rules; entries that would reach outside DIR are refused. DIR must not exist; it appears only once complete.")

    @Argument(help: "The image in the store (as `fnrt images` names it).")
    var reference: String

    @Argument(help: "The directory to create.")
    var directory: String

    @Option(help: "Refuse layers that unpack to more than this many MiB in all.")
    var maxMiB: Int64 = 16 << 10

    @Option(help: "Refuse layers with more entries than this in all.")
    var maxEntries = 2_000_000

    func run() async throws {
        do {
            let store = try openStore()
            let name = storeName(reference, in: store)
            let unpacker = try Unpacker(store: store, home: try FnrtHome.fromEnvironment(),
                                        limits: UnpackLimits(maxBytes: maxMiB << 20, maxEntries: maxEntries))
            let started = ContinuousClock.now
            let report = try unpacker.unpack(try unpacker.layers(ofImage: name), into: directory)
            var line = "Unpacked \(name) into \(report.path): \(report.layersApplied) layers, \(report.entries) entries, \(formatBytes(report.bytes)) in \(formatDuration(ContinuousClock.now - started))"
            if report.skippedDevices > 0 { line += " (\(report.skippedDevices) device nodes skipped: not permitted here)" }
            print(line)
        } catch {
            throw fail(error)
        }
    }
}
