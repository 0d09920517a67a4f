import ArgumentParser
import Docker
import Foundation
import ImageStore
import OCI
import Runtime

extension Image {
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Remove names from fnrt's store; `fnrt image prune` then frees what no image kept needs.")

        @Argument(help: "The images, as `fnrt images` lists them (or as pulled: busybox, host/repo:tag).")
        var references: [String]

        func run() async throws {
            do {
                let store = try openStore()
                var missing: [String] = []
                for reference in references {
                    if try store.untag(storeName(reference, in: store)) { print("Removed \(reference)") } else { missing.append(reference) }
                }
                if !missing.isEmpty {
                    throw ValidationError("not in the store: \(missing.joined(separator: ", ")) (see fnrt images)")
                }
            } catch {
                throw fail(error)
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune",
            abstract: "Free the disk space that no image kept needs.",
            discussion: """
                Removes the blobs that no image named in the store (fnrt images) nor pinned by a running `fnrt serve` \
                (the images of the functions it runs) refers to, partial downloads, the cached root filesystems of \
                removed images (except those a container runs from), and the copies Docker holds of removed images \
                (except those a container uses). Waits for pulls under way to end.
                """)

        @Flag(help: "Leave Docker's copies of removed images.")
        var keepDocker = false

        @Flag(help: "Only say what would be removed.")
        var dryRun = false

        func run() async throws {
            do {
                let home = try FnrtHome.fromEnvironment()
                let store = try ContentStore(home: home)
                let unpacker = try Unpacker(store: store, home: home)
                let report = try store.collectGarbage(unpacker: unpacker, rootsInUse: OCIDriver.rootsInUse(home: home), dryRun: dryRun)
                var removed = ["\(count(report.removedBlobs, "blob")) (\(formatBytes(report.removedBytes)))"]
                if report.removedPartials > 0 {
                    removed.append("\(count(report.removedPartials, "partial download")) (\(formatBytes(report.removedPartialBytes)))")
                }
                removed.append(count(report.removedRoots, "cached root filesystem"))
                if !keepDocker, !report.removedImageConfigs.isEmpty {
                    let images = dryRun ? report.removedImageConfigs.count : await removeFromDocker(report.removedImageConfigs)
                    removed.append((dryRun ? "up to " : "") + count(images, "image") + " in Docker")
                }
                print(dryRun ? "Would remove \(removed.joined(separator: ", ")); would keep \(count(report.keptImages, "image"))."
                    : "Removed \(removed.joined(separator: ", ")); kept \(count(report.keptImages, "image")).")
            } catch {
                throw fail(error)
            }
        }

        /// Removes Docker's copies of the images removed (named by their config digest, as `DockerImageLoader` loads them).
        /// Returns how many it removed.
        private func removeFromDocker(_ configs: [Digest]) async -> Int {
            var removed = 0
            do {
                let docker = try DockerClient()
                for config in configs {
                    switch try await docker.removeImage("sha256:\(config.encoded)") {
                    case .removed: removed += 1
                    case .notFound: break
                    case .inUse(let reason): FileHandle.standardError.write(Data("fnrt: left in Docker: \(reason)\n".utf8))
                    }
                }
            } catch {
                FileHandle.standardError.write(Data("fnrt: Docker's copies of removed images were left: \(error)\n".utf8))
            }
            return removed
        }

        private func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
    }
}
