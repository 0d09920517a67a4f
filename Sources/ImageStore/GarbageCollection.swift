import Foundation
import OCI
import Synchronization

/// What `ContentStore.collectGarbage` removed and kept.
public struct GarbageReport: Sendable {
    /// Blobs no named or pinned image refers to, removed, and their size.
    public var removedBlobs = 0
    public var removedBytes: Int64 = 0
    /// Partial downloads (kept to resume an interrupted pull), removed, and their size.
    public var removedPartials = 0
    public var removedPartialBytes: Int64 = 0
    /// Cached root filesystems of removed images, removed.
    public var removedRoots = 0
    /// The config digests of the images removed (each image's ID in Docker),
    /// except those an image kept shares.
    public var removedImageConfigs: [Digest] = []
    /// The images kept: named in `index.json`, or pinned by a running process.
    public var keptImages = 0

    public init() {}
}

extension ContentStore {
    /// Held by a process that writes blobs it has not named yet (a pull, a
    /// pack), so that `collectGarbage` does not remove them in between: a
    /// shared lock on the store's `.gc.lock`, which garbage collection takes
    /// exclusively. Released by `release()` or when it goes.
    public final class Lease: Sendable {
        /// The lock's file, -1 once closed: closing it releases the lease.
        private let descriptor: Mutex<Int32>

        fileprivate init(descriptor: Int32) { self.descriptor = Mutex(descriptor) }

        /// Ends the lease.
        public func release() {
            descriptor.withLock { fd in
                if fd >= 0 { close(fd) }
                fd = -1
            }
        }

        deinit { release() }
    }

    /// A lease on the store, waited for (without blocking a thread) while garbage is collected.
    public func lease() async throws -> Lease {
        let fd = try openLockFile(garbageLockPath)
        try await Self.lock(fd, LOCK_SH, path: garbageLockPath)
        return Lease(descriptor: fd)
    }

    /// A lease on the store, waited for by blocking this thread (for
    /// synchronous writers, such as `ImagePacker`).
    func leaseBlocking() throws -> Lease {
        let fd = try openLockFile(garbageLockPath)
        try Self.lockBlocking(fd, LOCK_SH, path: garbageLockPath)
        return Lease(descriptor: fd)
    }

    /// Keeps the image whose manifest is `digest` from garbage collection
    /// while this process runs, whatever its name becomes (a later pull of
    /// the same tag, `fnrt image rm`): `fnrt serve` pins the digest each
    /// function runs. A pin is an empty file `pins/pin-PID-STARTTIME-<hex>`;
    /// a pin of a process that has ended counts for nothing and is removed.
    public func pin(_ digest: Digest) throws {
        let path = "\(pinDirectory)/pin-\(ProcessIdentity.current)-\(digest.encoded)"
        if access(path, F_OK) == 0 { return }
        if mkdir(pinDirectory, 0o755) != 0, errno != EEXIST { throw StoreError.io(path: pinDirectory, operation: "create", errno: errno) }
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io(path: path, operation: "create", errno: errno) }
        close(fd)
    }

    /// Removes this process's pins: what it runs from now on, it pins again.
    public func unpinAll() {
        let mine = "pin-\(ProcessIdentity.current)-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: pinDirectory)) ?? [] where name.hasPrefix(mine) {
            unlink("\(pinDirectory)/\(name)")
        }
    }

    /// The manifests pinned by running processes (`pin`); pins of processes
    /// that have ended are removed.
    func livePins() -> [Digest] {
        ProcessIdentity.removeLeftovers(in: pinDirectory, prefix: "pin")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: pinDirectory)) ?? []
        return names.compactMap { name in
            guard let hex = name.split(separator: "-").last, name.hasPrefix("pin-") else { return nil }
            return try? Digest(parsing: "sha256:\(hex)")
        }
    }

    /// Removes what no image kept needs: the blobs that no image named in
    /// `index.json` or pinned by a running process refers to, partial
    /// downloads, and, with `unpacker`, the cached root filesystems of no
    /// image kept except those in `rootsInUse` (paths a container runs
    /// from). Waits for pulls under way (`lease`) to end, and holds new ones
    /// until it is done. Refuses, removing nothing, when an image kept cannot
    /// be read: which blobs it needs would be unknown. With `dryRun`, only
    /// reports what it would remove.
    public func collectGarbage(unpacker: Unpacker? = nil, rootsInUse: Set<String> = [], dryRun: Bool = false) throws -> GarbageReport {
        let fd = try openLockFile(garbageLockPath)
        try Self.lockBlocking(fd, LOCK_EX, path: garbageLockPath)
        defer { close(fd) }
        var report = GarbageReport()
        let roots = try index().manifests.map { ($0.digest, Optional($0.mediaType)) } + livePins().map { ($0, nil) }
        var kept = Set<Digest>()
        var keptImages: [Manifest] = []
        for (digest, mediaType) in roots where !kept.contains(digest) {
            try mark(digest, mediaType: mediaType, into: &kept, images: &keptImages)
        }
        report.keptImages = keptImages.count
        let keptConfigs = Set(keptImages.map(\.config.digest))

        let blobDirectory = "\(root)/blobs/sha256"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blobDirectory)) ?? [] {
            guard let digest = try? Digest(parsing: "sha256:\(name)"), !kept.contains(digest) else { continue }
            let path = "\(blobDirectory)/\(name)", size = fileSize(path)
            if let config = configOfManifest(digest, size: size), !keptConfigs.contains(config) { report.removedImageConfigs.append(config) }
            guard dryRun || unlink(path) == 0 else { throw StoreError.io(path: path, operation: "remove", errno: errno) }
            report.removedBlobs += 1
            report.removedBytes += size
        }
        // No pull holds the lease, so no download is under way: a partial file only waits for a resume.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: ingestDirectory)) ?? [] where name.hasSuffix(".partial") {
            let size = fileSize("\(ingestDirectory)/\(name)")
            if dryRun || unlink("\(ingestDirectory)/\(name)") == 0 {
                report.removedPartials += 1
                report.removedPartialBytes += size
            }
        }
        if let unpacker {
            report.removedRoots = unpacker.removeRoots(except: keptImages.map(\.layers), inUse: rootsInUse, dryRun: dryRun)
        }
        return report
    }

    /// Adds the blobs the image or index `digest` needs to `kept`.
    private func mark(_ digest: Digest, mediaType: String?, into kept: inout Set<Digest>, images: inout [Manifest]) throws {
        // A pin whose manifest never arrived (its pull failed) needs nothing.
        guard contains(digest) || mediaType != nil else { return }
        let document: ManifestDocument
        do {
            document = try ManifestDocument.decode(try read(digest), mediaType: mediaType).0
        } catch {
            throw StoreError.corrupt(path: blobPath(digest), reason: "an image kept cannot be read, so nothing was removed: \(error)")
        }
        kept.insert(digest)
        switch document {
        case .manifest(let manifest):
            kept.insert(manifest.config.digest)
            kept.formUnion(manifest.layers.map(\.digest))
            images.append(manifest)
        case .index(let index):
            // Only the platforms pulled are in the store: the others need nothing.
            for child in index.manifests where contains(child.digest) && !kept.contains(child.digest) {
                try mark(child.digest, mediaType: child.mediaType, into: &kept, images: &images)
            }
        }
    }

    /// The config digest of the blob `digest` (`size` bytes) when it is an
    /// image manifest (a small JSON document), else nil.
    private func configOfManifest(_ digest: Digest, size: Int64) -> Digest? {
        guard size < 1 << 20, let data = try? read(digest), data.first == UInt8(ascii: "{"),
              case .manifest(let manifest)? = try? ManifestDocument.decode(data, mediaType: nil).0 else { return nil }
        return manifest.config.digest
    }

    private var garbageLockPath: String { root + "/.gc.lock" }
    private var pinDirectory: String { root + "/pins" }

    private func fileSize(_ path: String) -> Int64 {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : 0
    }
}

extension Unpacker {
    /// Removes the cached roots that are not the root of one of `images`
    /// (nor of a prefix of one of their layer chains) and whose path is not
    /// in `inUse`; returns how many it removed (with `dryRun`, would remove).
    func removeRoots(except images: [[Descriptor]], inUse: Set<String>, dryRun: Bool) -> Int {
        // Roots are named by their chain key: a path in use names one by its last component.
        let keep = Set(images.flatMap(Self.chainKeys)).union(inUse.map { ($0 as NSString).lastPathComponent })
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: cacheDirectory)) ?? [] {
            // Temporary roots (`.tmp-...`) belong to unpacks under way, or are
            // removed as leftovers when their process has ended.
            guard !name.hasPrefix("."), !keep.contains(name) else { continue }
            if dryRun {
                removed += 1
                continue
            }
            // Out of its name first: a removal cut short (Ctrl-C) must not leave
            // half a root where a later unpack of the same layers would find it.
            let doomed = ProcessIdentity.temporaryPath(in: cacheDirectory)
            guard rename("\(cacheDirectory)/\(name)", doomed) == 0 else { continue }
            RootDirectory.removeTree(doomed)
            removed += 1
        }
        return removed
    }
}
