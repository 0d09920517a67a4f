import CArchive
import Foundation
import OCI

/// What an unpack did.
public struct UnpackReport: Sendable {
    /// The root directory.
    public var path: String
    /// Layers applied by this call (0 when the whole root came from the cache).
    public var layersApplied: Int
    /// Layers whose result came from a cached root of the same chain prefix.
    public var layersReused: Int
    public var entries: Int
    public var bytes: Int64
    /// Device nodes skipped because this process may not create them.
    public var skippedDevices: Int
}

/// Turns an image's layers into a root filesystem, safely (see
/// `LayerUnpacker`), atomically (a temporary directory renamed into place,
/// removed on any failure, or by the next `Unpacker` when its process was
/// killed) and once: roots are cached under a key made from
/// the chain of layer digests, and an image whose first layers match a
/// cached root starts from a hard-linked copy of it.
public final class Unpacker: Sendable {
    public let store: ContentStore
    /// Where cached roots live: `<directory>/<chain key>`.
    public let cacheDirectory: String
    public let limits: UnpackLimits

    public init(store: ContentStore, cacheDirectory: String, limits: UnpackLimits = UnpackLimits()) throws {
        self.store = store
        self.cacheDirectory = cacheDirectory
        self.limits = limits
        do { try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true) } catch {
            throw StoreError.io(path: cacheDirectory, operation: "create", errno: errno)
        }
        // Roots half unpacked by a process killed mid-pull (Ctrl-C, SIGKILL): the cleanup it could not do.
        ProcessIdentity.removeLeftovers(in: cacheDirectory)
    }

    /// The cache of `home`: `$FNRT_HOME/rootfs`.
    public convenience init(store: ContentStore, home: FnrtHome, limits: UnpackLimits = UnpackLimits()) throws {
        try self.init(store: store, cacheDirectory: home.path + "/rootfs", limits: limits)
    }

    /// The layers of the image named `reference` in the store.
    public func layers(ofImage reference: String) throws -> [Descriptor] {
        try store.image(reference).manifest.layers
    }

    /// Keys of each prefix of the chain: `key[i]` names layers `0...i`
    /// (the OCI ChainID construction, over the verified blob digests).
    static func chainKeys(_ layers: [Descriptor]) -> [String] {
        var keys: [String] = []
        for layer in layers {
            let key = keys.last.map { Digest.sha256(of: Array("\($0) \(layer.digest)".utf8)).encoded } ?? layer.digest.encoded
            keys.append(key)
        }
        return keys
    }

    /// The cached root of `layers`, unpacking it (once) if needed.
    /// `waitForLayer(i)` is called before layer `i` is read and may block until
    /// that blob is in the store: a pull unpacks each layer as soon as it and
    /// the ones below it have arrived, while later ones still download.
    public func rootfs(for layers: [Descriptor], waitForLayer: (Int) throws -> Void = { _ in }) throws -> UnpackReport {
        let keys = Self.chainKeys(layers)
        guard let key = keys.last else {
            throw UnpackError.unsafeEntry(layer: "image", entry: "", reason: "an image with no layers has no root filesystem")
        }
        let path = "\(cacheDirectory)/\(key)"
        if access(path, F_OK) == 0 {
            return UnpackReport(path: path, layersApplied: 0, layersReused: layers.count, entries: 0, bytes: 0, skippedDevices: 0)
        }
        // The longest cached prefix, if any, to start from.
        let prefix = keys.indices.dropLast().reversed().first { access("\(cacheDirectory)/\(keys[$0])", F_OK) == 0 }.map { $0 + 1 } ?? 0
        let temporary = ProcessIdentity.temporaryPath(in: cacheDirectory)
        var report = try build(layers, reusing: prefix > 0 ? "\(cacheDirectory)/\(keys[prefix - 1])" : nil,
                               from: prefix, at: temporary, waitForLayer: waitForLayer)
        if rename(temporary, path) != 0 {
            let code = errno
            RootDirectory.removeTree(temporary)
            // Another unpack of the same chain finished first: use it.
            guard code == ENOTEMPTY || code == EEXIST else { throw StoreError.io(path: path, operation: "rename into", errno: code) }
        }
        report.path = path
        return report
    }

    /// Unpacks `layers` into `destination`, which must not exist yet; it
    /// appears whole or not at all.
    public func unpack(_ layers: [Descriptor], into destination: String) throws -> UnpackReport {
        guard access(destination, F_OK) != 0 else {
            throw StoreError.io(path: destination, operation: "unpack into", errno: EEXIST)
        }
        let directory = (destination as NSString).deletingLastPathComponent
        let parent = directory.isEmpty ? "." : directory
        // An `fnrt unpack` killed mid-way left its temporary root beside the destination.
        ProcessIdentity.removeLeftovers(in: parent, prefix: ".fnrt-unpack")
        let temporary = ProcessIdentity.temporaryPath(in: parent, prefix: ".fnrt-unpack")
        var report = try build(layers, reusing: nil, from: 0, at: temporary)
        guard rename(temporary, destination) == 0 else {
            let code = errno
            RootDirectory.removeTree(temporary)
            throw StoreError.io(path: destination, operation: "rename into", errno: code)
        }
        report.path = destination
        return report
    }

    private func build(_ layers: [Descriptor], reusing base: String?, from start: Int, at temporary: String,
                       waitForLayer: (Int) throws -> Void = { _ in }) throws -> UnpackReport {
        do {
            if let base {
                try TreeCloner.clone(base, to: temporary)
            } else {
                guard mkdir(temporary, 0o755) == 0 else { throw StoreError.io(path: temporary, operation: "create", errno: errno) }
            }
            let root = try RootDirectory(path: temporary)
            let unpacker = LayerUnpacker(root: root, limits: limits)
            for index in start..<layers.count {
                let layer = layers[index]
                let name = "layer \(index + 1)/\(layers.count) \(layer.digest)"
                guard MediaType.layerCompression(layer.mediaType) != nil else {
                    throw UnpackError.unsupportedMediaType(layer: name, mediaType: layer.mediaType)
                }
                try waitForLayer(index)
                let blob = store.blobPath(layer.digest)
                let fd = open(blob, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw StoreError.io(path: blob, operation: "open", errno: errno) }
                defer { close(fd) }
                try unpacker.apply(fileDescriptor: fd, layer: name)
            }
            // The root directory itself: what runtimes expect of `/`.
            chmod(temporary, 0o755)
            return UnpackReport(path: temporary, layersApplied: layers.count - start, layersReused: start,
                                entries: unpacker.entries, bytes: unpacker.bytes, skippedDevices: unpacker.skippedDevices)
        } catch {
            RootDirectory.removeTree(temporary)
            throw error
        }
    }
}

/// Copies a tree as hard links (files) and new directories, symlinks and
/// nodes, so a cached root can be extended without touching it: layers never
/// write into an existing file, they replace it.
enum TreeCloner {
    static func clone(_ source: String, to destination: String) throws {
        let from = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard from >= 0 else { throw StoreError.io(path: source, operation: "open", errno: errno) }
        defer { close(from) }
        var st = stat()
        fstat(from, &st)
        guard mkdir(destination, 0o700) == 0 else { throw StoreError.io(path: destination, operation: "create", errno: errno) }
        let to = open(destination, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard to >= 0 else { throw StoreError.io(path: destination, operation: "open", errno: errno) }
        defer { close(to) }
        try cloneContents(from, to, path: destination)
        copyMetadata(of: st, to: to)
    }

    private static func copyMetadata(of st: stat, to fd: Int32) {
        fchown(fd, st.st_uid, st.st_gid)
        fchmod(fd, st.st_mode & 0o7777)
        var times = [st.st_atim, st.st_mtim]
        futimens(fd, &times)
    }

    private static func cloneContents(_ from: Int32, _ to: Int32, path: String) throws {
        let names: [String]
        do { names = try RootDirectory.list(from) } catch { throw StoreError.io(path: path, operation: "list", errno: errno) }
        for name in names {
            var st = stat()
            guard fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw StoreError.io(path: "\(path)/\(name)", operation: "stat", errno: errno) }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                guard mkdirat(to, name, 0o700) == 0 else { throw StoreError.io(path: "\(path)/\(name)", operation: "mkdir", errno: errno) }
                let childFrom = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                let childTo = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                defer { close(childFrom); close(childTo) }
                guard childFrom >= 0, childTo >= 0 else { throw StoreError.io(path: "\(path)/\(name)", operation: "open", errno: errno) }
                try cloneContents(childFrom, childTo, path: "\(path)/\(name)")
                copyMetadata(of: st, to: childTo)
            default:
                guard linkat(from, name, to, name, 0) == 0 else { throw StoreError.io(path: "\(path)/\(name)", operation: "link", errno: errno) }
            }
        }
    }
}
