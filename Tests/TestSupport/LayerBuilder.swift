import CArchive
import Foundation
import ImageStore
import OCI

/// One entry of a test layer. Names are written verbatim, hostile ones included.
public enum TarEntry: Sendable {
    case directory(String, mode: UInt32 = 0o755, uid: Int = 0, gid: Int = 0)
    case file(String, Data, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0, xattrs: [String: String] = [:])
    case symlink(String, target: String)
    case hardlink(String, target: String)
    case fifo(String)
    case charDevice(String, major: UInt32, minor: UInt32)
    /// `.wh.<name>` in the name's directory.
    case whiteout(String)
    /// `.wh..wh..opq` in the directory.
    case opaque(String)

    public static func text(_ name: String, _ content: String, mode: UInt32 = 0o644) -> TarEntry {
        .file(name, Data(content.utf8), mode: mode)
    }
}

/// Writes a layer with libarchive: a pax tar, compressed as asked.
public func makeLayer(_ entries: [TarEntry], compression: LayerCompression = .gzip, mtime: Int = 1_700_000_000) throws -> Data {
    let path = Scratch.path("layer") + ".tar"
    defer { unlink(path) }
    let archive = archive_write_new()
    defer { archive_write_free(archive) }
    archive_write_set_format_pax_restricted(archive)
    switch compression {
    case .gzip: archive_write_add_filter_gzip(archive)
    case .zstd: archive_write_add_filter_zstd(archive)
    case .none: break
    }
    guard archive_write_open_filename(archive, path) == ARCHIVE_OK else { throw LayerBuilderError("open \(path)") }
    for item in entries {
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        archive_entry_set_mtime(entry, time_t(mtime), 0)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        var content: Data?
        func parentOf(_ name: String) -> String {
            name.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        }
        switch item {
        case .directory(let name, let mode, let uid, let gid):
            archive_entry_set_pathname(entry, name)
            archive_entry_set_filetype(entry, CARCHIVE_AE_IFDIR)
            archive_entry_set_perm(entry, mode_t(mode))
            archive_entry_set_uid(entry, la_int64_t(uid))
            archive_entry_set_gid(entry, la_int64_t(gid))
        case .file(let name, let data, let mode, let uid, let gid, let xattrs):
            archive_entry_set_pathname(entry, name)
            archive_entry_set_filetype(entry, CARCHIVE_AE_IFREG)
            archive_entry_set_perm(entry, mode_t(mode))
            archive_entry_set_uid(entry, la_int64_t(uid))
            archive_entry_set_gid(entry, la_int64_t(gid))
            archive_entry_set_size(entry, la_int64_t(data.count))
            for (key, value) in xattrs.sorted(by: { $0.key < $1.key }) {
                archive_entry_xattr_add_entry(entry, key, value, value.utf8.count)
            }
            content = data
        case .symlink(let name, let target):
            archive_entry_set_pathname(entry, name)
            archive_entry_set_filetype(entry, CARCHIVE_AE_IFLNK)
            archive_entry_set_perm(entry, 0o777)
            archive_entry_set_symlink(entry, target)
        case .hardlink(let name, let target):
            archive_entry_set_pathname(entry, name)
            archive_entry_set_filetype(entry, CARCHIVE_AE_IFREG)
            archive_entry_set_perm(entry, 0o644)
            archive_entry_set_hardlink(entry, target)
            archive_entry_set_size(entry, 0)
        case .fifo(let name):
            archive_entry_set_pathname(entry, name)
            archive_entry_set_filetype(entry, CARCHIVE_AE_IFIFO)
            archive_entry_set_perm(entry, 0o644)
        case .charDevice(let name, let major, let minor):
            archive_entry_set_pathname(entry, name)
            archive_entry_set_filetype(entry, CARCHIVE_AE_IFCHR)
            archive_entry_set_perm(entry, 0o666)
            archive_entry_set_rdevmajor(entry, dev_t(major))
            archive_entry_set_rdevminor(entry, dev_t(minor))
        case .whiteout(let name):
            let parent = parentOf(name)
            let leaf = name.split(separator: "/").last.map(String.init) ?? name
            archive_entry_set_pathname(entry, (parent.isEmpty ? "" : parent + "/") + ".wh." + leaf)
            archive_entry_set_filetype(entry, CARCHIVE_AE_IFREG)
            archive_entry_set_perm(entry, 0o644)
        case .opaque(let directory):
            archive_entry_set_pathname(entry, (directory.isEmpty ? "" : directory + "/") + ".wh..wh..opq")
            archive_entry_set_filetype(entry, CARCHIVE_AE_IFREG)
            archive_entry_set_perm(entry, 0o644)
        }
        guard archive_write_header(archive, entry) == ARCHIVE_OK else {
            throw LayerBuilderError(String(cString: archive_error_string(archive)))
        }
        if let content, !content.isEmpty {
            _ = content.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, $0.count) }
        }
    }
    archive_write_close(archive)
    return try Data(contentsOf: URL(fileURLWithPath: path))
}

public struct LayerBuilderError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Writes layers and an image around them into `store`; returns the manifest.
@discardableResult
public func storeImage(_ layers: [Data], compression: LayerCompression = .gzip, in store: ContentStore, as name: String,
                       platform: Platform = .current) throws -> Manifest {
    let mediaType = switch compression {
    case .gzip: MediaType.ociLayerGzip
    case .zstd: MediaType.ociLayerZstd
    case .none: MediaType.ociLayer
    }
    let descriptors = try layers.map { try store.write($0, mediaType: mediaType) }
    let config = ImageConfig(platform: platform, config: .init(Cmd: ["/hello"]), diffIDs: try layers.map(diffID), created: "2026-01-01T00:00:00Z")
    let configDescriptor = try store.write(try JSONEncoder().encode(config), mediaType: MediaType.ociConfig)
    let manifest = Manifest(config: configDescriptor, layers: descriptors)
    var descriptor = try store.write(try JSONEncoder().encode(manifest), mediaType: MediaType.ociManifest)
    descriptor.platform = platform
    try store.tag(descriptor, as: name)
    return manifest
}

/// The digest of a layer's uncompressed tar (its diff ID), decompressed with libarchive.
public func diffID(_ layer: Data) throws -> Digest {
    let archive = archive_read_new()
    defer { archive_read_free(archive) }
    archive_read_support_filter_all(archive)
    archive_read_support_format_raw(archive)
    var hasher = DigestHasher()
    try layer.withUnsafeBytes { bytes in
        guard archive_read_open_memory(archive, bytes.baseAddress, bytes.count) == ARCHIVE_OK else { throw LayerBuilderError("open layer") }
        var entry: OpaquePointer?
        guard archive_read_next_header(archive, &entry) == ARCHIVE_OK else { throw LayerBuilderError("read layer") }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = archive_read_data(archive, &buffer, buffer.count)
            guard n >= 0 else { throw LayerBuilderError("decompress layer") }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
    return hasher.finalize()
}
