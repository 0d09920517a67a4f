import CArchive
import Docker
import Foundation
import ImageStore
import OCI
import Synchronization

/// Gets images from fnrt's store into Docker without a registry: a
/// `docker save`-format archive (manifest.json, config, one `layer.tar` per
/// layer, compressed as stored; Docker inflates them) is written with
/// libarchive into a pipe that Docker reads from `/images/load`, so no copy is
/// made. Once per image: skipped when Docker already has the image ID.
final class DockerImageLoader: Sendable {
    let docker: DockerClient
    let store: ContentStore
    let onProgress: (@Sendable (_ image: String, ImageLoadProgress) -> Void)?
    private let loading = Mutex<[Digest: Task<Void, any Error>]>([:])

    init(docker: DockerClient, store: ContentStore, onProgress: (@Sendable (_ image: String, ImageLoadProgress) -> Void)? = nil) {
        self.docker = docker
        self.store = store
        self.onProgress = onProgress
    }

    /// Makes sure Docker has the image; returns its Docker image ID.
    func ensureLoaded(manifest: Manifest, reference: String) async throws -> String {
        let imageID = "sha256:\(manifest.config.digest.encoded)"
        let task = loading.withLock { tasks in
            if let task = tasks[manifest.config.digest] { return task }
            let task = Task { [self] in
                if try await docker.imageExists(imageID) { return }
                try await load(manifest, reference: reference)
                guard try await docker.imageExists(imageID) else {
                    throw DockerError.invalidResponse(path: "/images/load", reason: "Docker did not report image \(imageID) after loading \(reference)")
                }
            }
            tasks[manifest.config.digest] = task
            return task
        }
        do { try await task.value } catch {
            loading.withLock { $0[manifest.config.digest] = nil }  // a later call tries again
            throw error
        }
        return imageID
    }

    /// Forgets that the image was loaded: the next `ensureLoaded` asks the engine again.
    func forget(_ manifest: Manifest) {
        loading.withLock { $0[manifest.config.digest] = nil }
    }

    private func load(_ manifest: Manifest, reference: String) async throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let store = self.store
        // Blocking writes into the pipe: on a thread of their own, never on a
        // pool that the request reading the other end may need.
        let writer = Task {
            try await onOwnThread {
                defer { close(writeEnd) }
                try Self.writeArchive(manifest, store: store, to: writeEnd)
            }
        }
        defer { close(readEnd) }
        let progress = onProgress.map { report in { @Sendable (step: ImageLoadProgress) in report(reference, step) } }
        do { _ = try await docker.loadImage(from: readEnd, progress: progress) } catch {
            // Docker stopped reading (it failed or went away): drain the pipe so
            // the writer finishes (closing it would raise SIGPIPE), then report.
            _ = try? await onOwnThread {
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                while true {
                    let n = read(readEnd, &buffer, buffer.count)
                    if n < 0, errno == EINTR { continue }
                    if n <= 0 { break }
                }
            }
            _ = try? await writer.value
            throw error
        }
        try await writer.value
    }

    /// Writes the `docker save` archive of `manifest` to `fd`.
    static func writeArchive(_ manifest: Manifest, store: ContentStore, to fd: Int32) throws {
        let archive = archive_write_new()
        defer { archive_write_free(archive) }
        archive_write_set_format_pax_restricted(archive)
        archive_write_set_bytes_in_last_block(archive, 1)
        guard archive_write_open_fd(archive, fd) == ARCHIVE_OK else { throw failure(archive) }
        let configName = "\(manifest.config.digest.encoded).json"
        let layerNames = manifest.layers.map { "\($0.digest.encoded)/layer.tar" }
        let index = try JSONSerialization.data(withJSONObject: [["Config": configName, "RepoTags": NSNull(), "Layers": layerNames]])
        try addEntry(archive, name: "manifest.json", data: index)
        try addEntry(archive, name: configName, path: store.blobPath(manifest.config.digest), size: manifest.config.size)
        for (layer, name) in zip(manifest.layers, layerNames) {
            try addEntry(archive, name: name, path: store.blobPath(layer.digest), size: layer.size)
        }
        guard archive_write_close(archive) == ARCHIVE_OK else { throw failure(archive) }
    }

    private static func addEntry(_ archive: OpaquePointer?, name: String, data: Data? = nil, path: String? = nil, size: Int64 = 0) throws {
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_filetype(entry, CARCHIVE_AE_IFREG)
        archive_entry_set_perm(entry, 0o644)
        archive_entry_set_size(entry, la_int64_t(data.map { Int64($0.count) } ?? size))
        guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw failure(archive) }
        if let data {
            _ = data.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, $0.count) }
            return
        }
        guard let path else { return }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            guard buffer.withUnsafeBytes({ archive_write_data(archive, $0.baseAddress, n) }) == n else { throw failure(archive) }
        }
    }

    private static func failure(_ archive: OpaquePointer?) -> DockerError {
        .invalidResponse(path: "/images/load", reason: "writing the image archive: " + (archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"))
    }
}
