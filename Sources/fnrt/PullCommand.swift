import ArgumentParser
import Foundation
import ImageStore
import OCI
import Registry

struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Pull an image from a registry into fnrt's store.")

    @Argument(help: "The image reference, e.g. busybox, 127.0.0.1:5000/fns/hello:1, host/repo@sha256:...")
    var reference: String

    @Option(help: "The platform to pull from a multi-platform image, os/arch[/variant] (default: this machine's).")
    var platform: String?

    @Option(help: "Layers downloaded at once.")
    var parallel = 3

    @Flag(name: .shortAndLong, help: "Print only the pulled reference and digest.")
    var quiet = false

    @Flag(help: "Also unpack the image into the root filesystem cache ($FNRT_HOME/rootfs), each layer as soon as it arrives.")
    var unpack = false

    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        do {
            let ref = try ImageReference(parsing: reference)
            let options = PullOptions(platform: try platform.map { try Platform(parsing: $0) } ?? .current,
                                      maxConcurrentDownloads: parallel)
            let store = try openStore()
            let puller = ImagePuller(store: store, client: try registry.makeClient())
            let unpacker = unpack ? try Unpacker(store: store, home: try FnrtHome.fromEnvironment()) : nil
            let display = quiet ? nil : PullProgress(terminal: isatty(STDOUT_FILENO) == 1)
            let started = ContinuousClock.now
            let image = try await puller.pull(ref, options: options, unpacker: unpacker) { event in display?.handle(event) }
            display?.finish()
            let elapsed = ContinuousClock.now - started
            if quiet {
                print(ref.digest == nil ? "\(ref)@\(image.manifestDescriptor.digest)" : ref.description)
            } else {
                print("Pulled \(ref) (\(image.config.platform)) digest \(image.manifestDescriptor.digest) in \(formatDuration(elapsed))")
                if let rootfs = image.rootfs { print("Root filesystem: \(rootfs.path)") }
            }
        } catch {
            throw fail(error)
        }
    }
}

struct Images: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List the images in fnrt's store.")

    @Flag(name: .shortAndLong, help: "Print only references.")
    var quiet = false

    func run() async throws {
        do {
            let store = try openStore()
            let images = try store.images()
            if quiet {
                images.forEach { print($0.reference) }
                return
            }
            var rows = [["REFERENCE", "DIGEST", "PLATFORM", "SIZE"]]
            for image in images {
                var size = image.manifest.size
                if let data = try? store.read(image.manifest.digest),
                    case .manifest(let m)? = try? ManifestDocument.decode(data, mediaType: image.manifest.mediaType).0 {
                    size = m.config.size + m.layers.reduce(0) { $0 + $1.size }
                }
                rows.append([image.reference, String(image.manifest.digest.description.prefix(19)),
                             image.manifest.platform?.description ?? "-", formatBytes(size)])
            }
            printTable(rows)
        } catch {
            throw fail(error)
        }
    }
}

struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Push an image from fnrt's store to a registry.")

    @Argument(help: "The image in the store (as `fnrt images` names it).")
    var source: String

    @Argument(help: "Where to push it (default: the same reference).")
    var destination: String?

    @Option(help: "Upload blobs larger than this many MiB in chunks of this size (0: one PUT each).")
    var chunkMiB: Int64 = 64

    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        do {
            let store = try openStore()
            let sourceName = storeName(source, in: store)
            let target = try ImageReference(parsing: destination ?? sourceName)
            let pusher = ImagePusher(store: store, client: try registry.makeClient(),
                                     chunkSize: chunkMiB > 0 ? chunkMiB << 20 : nil)
            let digest = try await pusher.push(sourceName, to: target)
            print("Pushed \(target) digest \(digest)")
        } catch {
            throw fail(error)
        }
    }
}
