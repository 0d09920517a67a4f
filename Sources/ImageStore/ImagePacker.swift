import CArchive
import Foundation
import OCI

/// Packs a program and the shared libraries it loads into a one-layer OCI
/// image in the store, so a function built on this machine runs in a
/// container with nothing else in it.
public enum ImagePacker {
    public enum PackError: Error, CustomStringConvertible {
        case notAnExecutable(String)
        case dependencies(String, reason: String)
        case archive(String)

        public var description: String {
            switch self {
            case .notAnExecutable(let path): "\(path) is not an executable file"
            case .dependencies(let path, let reason): "cannot list the shared libraries of \(path): \(reason)"
            case .archive(let message): "cannot write the layer: \(message)"
            }
        }
    }

    /// The files `binary` needs at run time: itself, its shared libraries and the dynamic loader (from `ldd`).
    public static func runtimeFiles(of binary: String) throws -> [String] {
        guard access(binary, X_OK) == 0 else { throw PackError.notAnExecutable(binary) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        process.arguments = [binary]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = Pipe()
        do { try process.run() } catch { throw PackError.dependencies(binary, reason: "\(error)") }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var libraries: [String] = []
        for line in output.split(separator: "\n") {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
            let parts = line.split(separator: " ").map(String.init)
            if let arrow = parts.firstIndex(of: "=>"), arrow + 1 < parts.count, parts[arrow + 1].hasPrefix("/") {
                libraries.append(parts[arrow + 1])
            } else if let first = parts.first?.trimmingCharacters(in: .whitespaces), first.hasPrefix("/") {
                libraries.append(first)
            } else if line.contains("not found") {
                throw PackError.dependencies(binary, reason: String(line).trimmingCharacters(in: .whitespaces))
            }
        }
        return libraries
    }

    /// Packs `binary` as `/usr/local/bin/<name>` with its libraries, and names
    /// the image `reference` in the store. Returns the manifest descriptor.
    @discardableResult
    public static func pack(binary: String, into store: ContentStore, as reference: String, arguments: [String] = [],
                            environment: [String] = [], platform: Platform = .current) throws -> Descriptor {
        let lease = try store.leaseBlocking()
        defer { lease.release() }
        let name = (binary as NSString).lastPathComponent
        let entrypoint = "/usr/local/bin/\(name)"
        var files: [(path: String, source: String)] = [(entrypoint, binary)]
        for library in try runtimeFiles(of: binary) where !files.contains(where: { $0.path == library }) {
            files.append((library, library))
        }
        let layer = try writeLayer(files)
        let layerDescriptor = try store.write(layer.compressed, mediaType: MediaType.ociLayerGzip)
        let config = ImageConfig(
            platform: platform,
            config: .init(Env: ["PATH=/usr/local/bin:/usr/bin:/bin"] + environment, Entrypoint: [entrypoint] + arguments,
                          Labels: ["org.opencontainers.image.title": name]),
            diffIDs: [layer.diffID], created: "2026-01-01T00:00:00Z")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let configDescriptor = try store.write(try encoder.encode(config), mediaType: MediaType.ociConfig)
        let manifest = Manifest(config: configDescriptor, layers: [layerDescriptor])
        var descriptor = try store.write(try encoder.encode(manifest), mediaType: MediaType.ociManifest)
        descriptor.platform = platform
        try store.tag(descriptor, as: reference)
        return descriptor
    }

    /// A gzip layer holding `files` (with their directories and a `/tmp`),
    /// with fixed owners and times so the same inputs give the same digest.
    static func writeLayer(_ files: [(path: String, source: String)]) throws -> (compressed: Data, diffID: Digest) {
        let temporary = NSTemporaryDirectory() + "fnrt-pack-\(UUID().uuidString)"
        defer { unlink(temporary + ".tar"); unlink(temporary + ".tar.gz") }
        var directories: [String] = ["tmp"]
        for (path, _) in files {
            var parts = path.split(separator: "/").dropLast().map(String.init)
            var prefix = ""
            while !parts.isEmpty {
                prefix += (prefix.isEmpty ? "" : "/") + parts.removeFirst()
                if !directories.contains(prefix) { directories.append(prefix) }
            }
        }
        // Uncompressed first (its digest is the diff ID), then gzip of it.
        for (suffix, gzip) in [(".tar", false), (".tar.gz", true)] {
            let archive = archive_write_new()
            defer { archive_write_free(archive) }
            archive_write_set_format_pax_restricted(archive)
            if gzip {
                archive_write_add_filter_gzip(archive)
                archive_write_set_filter_option(archive, "gzip", "timestamp", nil)
            }
            guard archive_write_open_filename(archive, temporary + suffix) == ARCHIVE_OK else {
                throw PackError.archive(String(cString: archive_error_string(archive)))
            }
            for directory in directories.sorted() {
                try writeEntry(archive, name: directory + "/", type: CARCHIVE_AE_IFDIR, mode: directory == "tmp" ? 0o1777 : 0o755, source: nil)
            }
            for (path, source) in files {
                var st = stat()
                guard stat(source, &st) == 0 else { throw PackError.notAnExecutable(source) }
                try writeEntry(archive, name: String(path.dropFirst()), type: CARCHIVE_AE_IFREG, mode: st.st_mode & 0o755, source: source)
            }
            guard archive_write_close(archive) == ARCHIVE_OK else { throw PackError.archive(String(cString: archive_error_string(archive))) }
        }
        let tar = try Data(contentsOf: URL(fileURLWithPath: temporary + ".tar"))
        return (try Data(contentsOf: URL(fileURLWithPath: temporary + ".tar.gz")), Digest.sha256(of: tar))
    }

    private static func writeEntry(_ archive: OpaquePointer?, name: String, type: UInt32, mode: mode_t, source: String?) throws {
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_filetype(entry, type)
        archive_entry_set_perm(entry, mode)
        archive_entry_set_mtime(entry, 1_700_000_000, 0)
        let content = try source.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        archive_entry_set_size(entry, la_int64_t(content?.count ?? 0))
        guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw PackError.archive(String(cString: archive_error_string(archive))) }
        if let content, !content.isEmpty {
            _ = content.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, $0.count) }
        }
    }
}
