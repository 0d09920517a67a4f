import CArchive
import Foundation
import OCI

/// Caps that stop a decompression bomb while it unpacks.
public struct UnpackLimits: Sendable {
    /// Total bytes of file content across all layers.
    public var maxBytes: Int64
    /// Total entries across all layers.
    public var maxEntries: Int

    public init(maxBytes: Int64 = 16 << 30, maxEntries: Int = 2_000_000) {
        self.maxBytes = maxBytes
        self.maxEntries = maxEntries
    }
}

/// Why a layer could not be unpacked; names the layer and, where there is
/// one, the archive entry.
public enum UnpackError: Error, Sendable, CustomStringConvertible {
    /// libarchive could not read the layer (truncated, corrupt, not a tar).
    case archive(layer: String, entry: String?, message: String)
    /// The entry tried to reach outside the root, or cannot be placed safely.
    case unsafeEntry(layer: String, entry: String, reason: String)
    /// A file system call failed.
    case io(layer: String, entry: String, operation: String, errno: Int32)
    /// The unpack went past a configured cap.
    case limitExceeded(layer: String, entry: String, limit: String)
    /// The layer's media type is not a tar, tar+gzip or tar+zstd.
    case unsupportedMediaType(layer: String, mediaType: String)

    public var description: String {
        switch self {
        case .archive(let layer, let entry, let message):
            "\(layer): cannot read the archive\(entry.map { " at entry '\($0)'" } ?? ""): \(message)"
        case .unsafeEntry(let layer, let entry, let reason): "\(layer): entry '\(entry)' refused: \(reason)"
        case .io(let layer, let entry, let operation, let code):
            "\(layer): entry '\(entry)': \(operation) failed: \(String(cString: strerror(code)))"
        case .limitExceeded(let layer, let entry, let limit): "\(layer): entry '\(entry)' exceeds the limit of \(limit)"
        case .unsupportedMediaType(let layer, let mediaType): "\(layer): media type \(mediaType) is not a tar layer"
        }
    }
}

/// Applies image layers, in order, to a root directory with the OCI image
/// spec's semantics: `.wh.<name>` deletes, `.wh..wh..opq` hides what lower
/// layers put in a directory, later entries replace earlier ones, directories
/// merge. Files, directories, symlinks, hardlinks, fifos and (when permitted)
/// device nodes keep their mode, owner, mtime and xattrs.
final class LayerUnpacker {
    let root: RootDirectory
    let limits: UnpackLimits
    /// Owners are applied only when running as root; elsewhere files are ours.
    let preserveOwners = geteuid() == 0
    private(set) var bytes: Int64 = 0
    private(set) var entries = 0
    /// Device nodes that could not be made (not permitted here) and were skipped.
    private(set) var skippedDevices = 0

    init(root: RootDirectory, limits: UnpackLimits) {
        self.root = root
        self.limits = limits
    }

    /// Applies one layer read from `fileDescriptor`; `layer` names it in errors.
    func apply(fileDescriptor: Int32, layer: String) throws(UnpackError) {
        let reader: ArchiveReader
        do { reader = try ArchiveReader(fileDescriptor: fileDescriptor) } catch {
            throw .archive(layer: layer, entry: nil, message: error.message)
        }
        var state = LayerState()
        var name: String?
        do {
            while let entry = try reader.next() {
                name = entryName(entry)
                try applyEntry(entry, name: name!, reader: reader, layer: layer, state: &state)
            }
        } catch let error as UnpackError {
            throw error
        } catch let error as ArchiveFailure {
            throw .archive(layer: layer, entry: name, message: error.message)
        } catch {
            throw .archive(layer: layer, entry: name, message: "\(error)")
        }
        // Directory times last: creating their children changed them.
        for (path, time) in state.directoryTimes.reversed() {
            let components = (try? RootDirectory.components(of: path)) ?? []
            guard let leaf = components.last, let parent = try? root.openDirectory(components.dropLast(), create: false) else { continue }
            var times = [time, time]
            utimensat(parent, leaf, &times, AT_SYMLINK_NOFOLLOW)
            close(parent)
        }
    }

    private struct LayerState {
        /// Paths this layer created: an opaque whiteout keeps them.
        var created = Set<String>()
        var directoryTimes: [(String, timespec)] = []
    }

    private func entryName(_ entry: OpaquePointer) -> String {
        if let utf8 = archive_entry_pathname_utf8(entry) { return String(cString: utf8) }
        return archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
    }

    private func applyEntry(_ entry: OpaquePointer, name: String, reader: ArchiveReader, layer: String,
                            state: inout LayerState) throws {
        func fail(_ operation: String, _ code: Int32 = errno) -> UnpackError {
            .io(layer: layer, entry: name, operation: operation, errno: code)
        }
        func mapped(_ error: RootPathError) -> UnpackError {
            switch error {
            case .system(let operation, let path, let code): .io(layer: layer, entry: name, operation: "\(operation) \(path)", errno: code)
            case .notADirectory(let path): .unsafeEntry(layer: layer, entry: name, reason: "'\(path)' is not a directory")
            case .tooManySymlinks(let path): .unsafeEntry(layer: layer, entry: name, reason: "too many symbolic links resolving '\(path)' (a loop?)")
            case .escapesRoot: .unsafeEntry(layer: layer, entry: name, reason: "the name climbs out of the root with '..'")
            }
        }

        entries += 1
        guard entries <= limits.maxEntries else { throw UnpackError.limitExceeded(layer: layer, entry: name, limit: "\(limits.maxEntries) entries") }
        let components: [String]
        do { components = try RootDirectory.components(of: name) } catch { throw mapped(error) }
        guard let leaf = components.last else { return }  // the root itself
        let path = components.joined(separator: "/")
        let parentComponents = components.dropLast()

        // Whiteouts.
        if leaf.hasPrefix(".wh.") {
            if leaf == ".wh..wh..opq" {
                let directory: Int32
                do { directory = try root.openDirectory(parentComponents, create: true) } catch { throw mapped(error) }
                defer { close(directory) }
                let prefix = parentComponents.isEmpty ? "" : parentComponents.joined(separator: "/") + "/"
                do {
                    for child in try RootDirectory.list(directory) where !state.created.contains(prefix + child) {
                        try RootDirectory.removeAll(directory, child)
                    }
                } catch { throw mapped(error) }
            } else if !leaf.hasPrefix(".wh..wh.") {
                let target = String(leaf.dropFirst(4))
                guard target != ".", target != "..", !target.isEmpty else {
                    throw UnpackError.unsafeEntry(layer: layer, entry: name, reason: "whiteout of '\(target)'")
                }
                let directory: Int32
                do { directory = try root.openDirectory(parentComponents, create: false) } catch {
                    if case .system(_, _, ENOENT) = error { return }  // nothing there to hide
                    throw mapped(error)
                }
                defer { close(directory) }
                do { try RootDirectory.removeAll(directory, target) } catch { throw mapped(error) }
            }
            return
        }

        let parent: Int32
        do { parent = try root.openDirectory(parentComponents, create: true) } catch { throw mapped(error) }
        defer { close(parent) }
        state.created.insert(path)

        let mode = mode_t(archive_entry_perm(entry))
        let uid = uid_t(truncatingIfNeeded: archive_entry_uid(entry))
        let gid = gid_t(truncatingIfNeeded: archive_entry_gid(entry))
        let mtime = timespec(tv_sec: time_t(archive_entry_mtime(entry)), tv_nsec: Int(archive_entry_mtime_nsec(entry)))

        var existing = stat()
        let exists = fstatat(parent, leaf, &existing, AT_SYMLINK_NOFOLLOW) == 0
        func replaceExisting(keepDirectory: Bool = false) throws {
            guard exists else { return }
            if keepDirectory, existing.st_mode & S_IFMT == S_IFDIR { return }
            do { try RootDirectory.removeAll(parent, leaf) } catch { throw mapped(error) }
        }

        if let hardlink = archive_entry_hardlink_utf8(entry) ?? archive_entry_hardlink(entry) {
            let targetName = String(cString: hardlink)
            let target: [String]
            do { target = try RootDirectory.components(of: targetName) } catch {
                throw UnpackError.unsafeEntry(layer: layer, entry: name, reason: "hardlink target '\(targetName)' climbs out of the root")
            }
            guard let targetLeaf = target.last else {
                throw UnpackError.unsafeEntry(layer: layer, entry: name, reason: "hardlink to the root directory")
            }
            let targetParent: Int32
            do { targetParent = try root.openDirectory(target.dropLast(), create: false) } catch {
                if case .system(_, _, ENOENT) = error {
                    throw UnpackError.unsafeEntry(layer: layer, entry: name, reason: "hardlink target '\(targetName)' does not exist")
                }
                throw mapped(error)
            }
            defer { close(targetParent) }
            var st = stat()
            guard fstatat(targetParent, targetLeaf, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw UnpackError.unsafeEntry(layer: layer, entry: name, reason: "hardlink target '\(targetName)' does not exist")
            }
            guard st.st_mode & S_IFMT != S_IFDIR else {
                throw UnpackError.unsafeEntry(layer: layer, entry: name, reason: "hardlink to directory '\(targetName)'")
            }
            if exists, existing.st_ino == st.st_ino, existing.st_dev == st.st_dev { return }
            try replaceExisting()
            guard linkat(targetParent, targetLeaf, parent, leaf, 0) == 0 else { throw fail("link to '\(targetName)'") }
            return
        }

        switch archive_entry_filetype(entry) {
        case CARCHIVE_AE_IFDIR:
            try replaceExisting(keepDirectory: true)
            if !(exists && existing.st_mode & S_IFMT == S_IFDIR) {
                guard mkdirat(parent, leaf, 0o700) == 0 else { throw fail("mkdir") }
            }
            if preserveOwners { guard fchownat(parent, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw fail("chown") } }
            guard fchmodat(parent, leaf, mode, 0) == 0 else { throw fail("chmod") }
            try applyXattrs(entry, parent: parent, leaf: leaf, layer: layer, name: name)
            state.directoryTimes.append((path, mtime))

        case CARCHIVE_AE_IFREG:
            let size = Int64(archive_entry_size(entry))
            guard bytes + size <= limits.maxBytes else {
                throw UnpackError.limitExceeded(layer: layer, entry: name, limit: "\(limits.maxBytes) bytes")
            }
            try replaceExisting()
            let fd = openat(parent, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw fail("create") }
            defer { close(fd) }
            var end: Int64 = 0
            try reader.readData { block, offset in
                guard bytes + Int64(block.count) <= limits.maxBytes else {
                    throw UnpackError.limitExceeded(layer: layer, entry: name, limit: "\(limits.maxBytes) bytes")
                }
                var done = 0
                while done < block.count {
                    let n = pwrite(fd, block.baseAddress! + done, block.count - done, off_t(offset) + off_t(done))
                    if n < 0 { if errno == EINTR { continue }; throw fail("write") }
                    done += n
                }
                bytes += Int64(block.count)
                end = max(end, offset + Int64(block.count))
            }
            if end < size { guard ftruncate(fd, off_t(size)) == 0 else { throw fail("truncate") } }  // a trailing hole
            if preserveOwners { guard fchown(fd, uid, gid) == 0 else { throw fail("chown") } }
            guard fchmod(fd, mode) == 0 else { throw fail("chmod") }  // after chown, which clears setuid
            try applyXattrs(entry, fd: fd, layer: layer, name: name)
            var times = [mtime, mtime]
            futimens(fd, &times)

        case CARCHIVE_AE_IFLNK:
            let target = (archive_entry_symlink_utf8(entry) ?? archive_entry_symlink(entry)).map { String(cString: $0) } ?? ""
            try replaceExisting()
            guard symlinkat(target, parent, leaf) == 0 else { throw fail("symlink") }
            if preserveOwners { fchownat(parent, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) }
            var times = [mtime, mtime]
            utimensat(parent, leaf, &times, AT_SYMLINK_NOFOLLOW)

        case CARCHIVE_AE_IFCHR, CARCHIVE_AE_IFBLK, CARCHIVE_AE_IFIFO:
            let type = archive_entry_filetype(entry)
            try replaceExisting()
            if mknodat(parent, leaf, mode | mode_t(type), type == CARCHIVE_AE_IFIFO ? 0 : archive_entry_rdev(entry)) != 0 {
                if errno == EPERM, type != CARCHIVE_AE_IFIFO { skippedDevices += 1; return }
                throw fail("mknod")
            }
            if preserveOwners { fchownat(parent, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) }
            fchmodat(parent, leaf, mode, 0)
            var times = [mtime, mtime]
            utimensat(parent, leaf, &times, AT_SYMLINK_NOFOLLOW)

        default:
            break  // sockets and unknown types are not image content
        }
    }

    /// Extended attributes on an open file.
    private func applyXattrs(_ entry: OpaquePointer, fd: Int32, layer: String, name: String) throws {
        try forEachXattr(entry) { key, value, size in fsetxattr(fd, key, value, size, 0) }
    }

    /// Extended attributes on a directory, by name.
    private func applyXattrs(_ entry: OpaquePointer, parent: Int32, leaf: String, layer: String, name: String) throws {
        guard archive_entry_xattr_count(entry) > 0 else { return }
        let fd = openat(parent, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        try applyXattrs(entry, fd: fd, layer: layer, name: name)
    }

    private func forEachXattr(_ entry: OpaquePointer, _ set: (UnsafePointer<CChar>, UnsafeRawPointer?, Int) -> Int32) throws {
        guard archive_entry_xattr_reset(entry) > 0 else { return }
        var key: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK {
            guard let key else { continue }
            // Attributes this file system or this user may not set (security.*, trusted.*) are skipped.
            _ = set(key, value, size)
        }
    }
}
