import Foundation
import OCI
import Registry

/// Errors of the content store, each naming the file involved.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case io(path: String, operation: String, errno: Int32)
    case corrupt(path: String, reason: String)
    case imageNotFound(String)

    public var description: String {
        switch self {
        case .io(let path, let operation, let code): "\(operation) \(path): \(String(cString: strerror(code)))"
        case .corrupt(let path, let reason): "\(path): \(reason)"
        case .imageNotFound(let ref): "image \(ref) is not in the store (pull it first)"
        }
    }
}

/// An image as the store lists it.
public struct StoredImage: Sendable, Hashable {
    public var reference: String
    public var manifest: Descriptor
}

/// A content-addressed store in OCI image-layout form (`oci-layout`,
/// `index.json`, `blobs/sha256/...`), so skopeo and umoci read it as
/// `oci:<root>:<ref>`. Every file appears whole or not at all (temporary file
/// and rename); `index.json` changes are serialized with a file lock across
/// processes.
public final class ContentStore: Sendable {
    public let root: String
    let ingestDirectory: String

    /// Opens the store at `root`, creating the layout if needed.
    public init(root: String) throws {
        self.root = root
        self.ingestDirectory = root + "/ingest"
        do { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) } catch {
            throw StoreError.io(path: root, operation: "create", errno: errno)
        }
        for dir in [root + "/blobs", root + "/blobs/sha256", ingestDirectory] {
            if mkdir(dir, 0o755) != 0, errno != EEXIST { throw StoreError.io(path: dir, operation: "create", errno: errno) }
        }
        ProcessIdentity.removeLeftovers(in: ingestDirectory)
        if access(root + "/oci-layout", F_OK) != 0 {
            try writeAtomically(Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: root + "/oci-layout")
        }
        if access(root + "/index.json", F_OK) != 0 {
            try writeAtomically(try Self.encode(Index(mediaType: MediaType.ociIndex, manifests: [])), to: root + "/index.json")
        }
    }

    /// The store of `FnrtHome`: `$FNRT_HOME/images`.
    public convenience init(home: FnrtHome) throws {
        try self.init(root: home.path + "/images")
    }

    // MARK: Blobs

    public func blobPath(_ digest: Digest) -> String { "\(root)/blobs/\(digest.algorithm)/\(digest.encoded)" }

    public func contains(_ digest: Digest) -> Bool { access(blobPath(digest), F_OK) == 0 }

    /// Reads a blob into memory, refusing one larger than `limit`, and checks its digest.
    public func read(_ digest: Digest, limit: Int = 16 << 20) throws -> Data {
        let path = blobPath(digest)
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError.io(path: path, operation: "open", errno: errno) }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: limit + 1)) ?? Data()
        guard data.count <= limit else { throw StoreError.corrupt(path: path, reason: "larger than \(limit) bytes") }
        guard Digest.sha256(of: data) == digest else { throw StoreError.corrupt(path: path, reason: "content does not match its digest") }
        return data
    }

    /// Writes a blob from memory and returns its descriptor.
    @discardableResult
    public func write(_ data: Data, mediaType: String) throws -> Descriptor {
        let digest = Digest.sha256(of: data)
        if !contains(digest) { try writeAtomically(data, to: blobPath(digest)) }
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
    }

    /// Starts or resumes writing the blob `digest`. The partial file is locked,
    /// so two processes after the same blob take turns: the second waits, then
    /// finds it done. Returns nil when the blob is already in the store.
    public func ingest(_ digest: Digest) async throws -> Ingest? {
        if contains(digest) { return nil }
        let path = "\(ingestDirectory)/\(digest.algorithm)-\(digest.encoded).partial"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io(path: path, operation: "open", errno: errno) }
        // Another process holds the lock while it downloads.
        try await Self.lock(fd, LOCK_EX, path: path)
        if contains(digest) {
            close(fd)
            return nil
        }
        return Ingest(store: self, digest: digest, path: path, fileDescriptor: fd)
    }

    /// Opens the file at `path` that a lock is taken on, creating it if needed.
    func openLockFile(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io(path: path, operation: "open", errno: errno) }
        return fd
    }

    /// Takes the `flock` `operation` (`LOCK_EX`, `LOCK_SH`) on `fd`, blocking
    /// this thread while another process holds it; closes `fd` when it throws.
    static func lockBlocking(_ fd: Int32, _ operation: Int32, path: String) throws {
        while flock(fd, operation) != 0 {
            guard errno == EINTR else {
                let code = errno
                close(fd)
                throw StoreError.io(path: path, operation: "lock", errno: code)
            }
        }
    }

    /// Takes the `flock` `operation` (`LOCK_EX`, `LOCK_SH`) on `fd`, waiting
    /// while another process holds it without blocking a thread; closes `fd`
    /// when it throws.
    static func lock(_ fd: Int32, _ operation: Int32, path: String) async throws {
        while flock(fd, operation | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let code = errno
                close(fd)
                throw StoreError.io(path: path, operation: "lock", errno: code)
            }
            do { try await Task.sleep(for: .milliseconds(50)) } catch { close(fd); throw error }
        }
    }

    /// A blob being written; `commit` moves it into place, `discard` deletes it.
    public final class Ingest: @unchecked Sendable {
        // Unchecked: owned by one download; its fd is closed exactly once by commit/discard/deinit.
        public let digest: Digest
        public let path: String
        public let fileDescriptor: Int32
        let store: ContentStore
        private var closed = false

        init(store: ContentStore, digest: Digest, path: String, fileDescriptor: Int32) {
            self.store = store
            self.digest = digest
            self.path = path
            self.fileDescriptor = fileDescriptor
        }

        /// Moves the finished file to its blob path. The caller has verified it.
        public func commit() throws {
            defer { finish() }
            guard rename(path, store.blobPath(digest)) == 0 else {
                throw StoreError.io(path: store.blobPath(digest), operation: "rename into", errno: errno)
            }
        }

        /// Deletes the partial file (a bad download).
        public func discard() {
            unlink(path)
            finish()
        }

        /// Leaves the partial file for a later resume (an interrupted download).
        public func keep() { finish() }

        private func finish() {
            guard !closed else { return }
            closed = true
            close(fileDescriptor)
        }

        deinit { finish() }
    }

    // MARK: index.json

    /// The store's `index.json`.
    public func index() throws -> Index {
        let path = root + "/index.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw StoreError.io(path: path, operation: "read", errno: errno) }
        do { return try JSONDecoder().decode(Index.self, from: data) } catch {
            throw StoreError.corrupt(path: path, reason: "not an OCI index: \(error)")
        }
    }

    /// Names `descriptor` as `reference` in `index.json`, replacing an entry of the same name.
    public func tag(_ descriptor: Descriptor, as reference: String) throws {
        var entry = descriptor
        entry.annotations = (entry.annotations ?? [:]).merging([Descriptor.refNameAnnotation: reference]) { $1 }
        try updateIndex { index in
            index.manifests.removeAll { $0.refName == reference }
            index.manifests.append(entry)
        }
    }

    /// Removes the name `reference`; true when it was there. Blobs stay until garbage collection.
    @discardableResult
    public func untag(_ reference: String) throws -> Bool {
        var removed = false
        try updateIndex { index in
            let before = index.manifests.count
            index.manifests.removeAll { $0.refName == reference }
            removed = index.manifests.count != before
        }
        return removed
    }

    /// The manifest descriptor of the image named `reference`, if any;
    /// `name@sha256:...` also finds an image by its manifest digest, whatever
    /// name it was stored under, or none: a later pull of the same tag moves
    /// the name to another image, and what was pinned to the first one (a
    /// function `fnrt serve` runs) still finds it until `collectGarbage`.
    public func resolve(_ reference: String) throws -> Descriptor? {
        let manifests = try index().manifests
        if let named = manifests.last(where: { $0.refName == reference }) { return named }
        guard let at = reference.lastIndex(of: "@"),
              let digest = try? Digest(parsing: String(reference[reference.index(after: at)...])) else { return nil }
        if let stored = manifests.last(where: { $0.digest == digest }) { return stored }
        guard contains(digest), let data = try? read(digest),
              let (_, mediaType) = try? ManifestDocument.decode(data, mediaType: nil) else { return nil }
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
    }

    /// The manifest and config of the single-platform image named `reference`.
    public func image(_ reference: String) throws -> (manifest: Manifest, config: ImageConfig) {
        guard let descriptor = try resolve(reference) else { throw StoreError.imageNotFound(reference) }
        let manifest: Manifest
        do {
            guard case .manifest(let m) = try ManifestDocument.decode(try read(descriptor.digest), mediaType: descriptor.mediaType).0 else {
                throw StoreError.corrupt(path: blobPath(descriptor.digest), reason: "\(reference) names an index, not an image manifest")
            }
            manifest = m
        } catch let error as OCIError {
            throw StoreError.corrupt(path: blobPath(descriptor.digest), reason: error.description)
        }
        do {
            return (manifest, try JSONDecoder().decode(ImageConfig.self, from: try read(manifest.config.digest)))
        } catch let error as DecodingError {
            throw StoreError.corrupt(path: blobPath(manifest.config.digest), reason: "not an image config: \(error)")
        }
    }

    /// Every named image, sorted by name.
    public func images() throws -> [StoredImage] {
        try index().manifests.compactMap { d in d.refName.map { StoredImage(reference: $0, manifest: d) } }
            .sorted { $0.reference < $1.reference }
    }

    private func updateIndex(_ change: (inout Index) throws -> Void) throws {
        let lockPath = root + "/.index.lock"
        let fd = try openLockFile(lockPath)
        try Self.lockBlocking(fd, LOCK_EX, path: lockPath)
        defer { close(fd) }
        var index = try index()
        try change(&index)
        try writeAtomically(try Self.encode(index), to: root + "/index.json")
    }

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Writes `data` to a temporary file beside `path`, then renames it over `path`.
    func writeAtomically(_ data: Data, to path: String) throws {
        let temp = ProcessIdentity.temporaryPath(in: ingestDirectory)
        guard FileManager.default.createFile(atPath: temp, contents: data) else {
            throw StoreError.io(path: temp, operation: "write", errno: errno)
        }
        guard rename(temp, path) == 0 else {
            let e = errno
            unlink(temp)
            throw StoreError.io(path: path, operation: "rename into", errno: e)
        }
    }
}
