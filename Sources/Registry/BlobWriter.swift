import CurlHTTP
import Foundation
import OCI

/// Writes a blob's bytes to an open file while hashing them. Made for one
/// download at a time; it survives retries so a cut transfer resumes.
public final class BlobWriter: @unchecked Sendable {
    // Unchecked: used by one transfer thread at a time (see ResponseSink).
    public let fileDescriptor: Int32
    public private(set) var count: Int64 = 0
    private var hasher = DigestHasher()
    private var buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0

    /// Takes over `fileDescriptor` (not closed here). Bytes already in the
    /// file (a download an earlier process left) are hashed and kept, so the
    /// download resumes after them.
    public init(fileDescriptor: Int32) throws {
        self.fileDescriptor = fileDescriptor
        self.buffer = .allocate(byteCount: 1 << 20, alignment: 16)
        var st = stat()
        guard fstat(fileDescriptor, &st) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        if st.st_size > 0 {
            var offset: Int64 = 0
            while offset < st.st_size {
                let n = pread(fileDescriptor, buffer.baseAddress, buffer.count, off_t(offset))
                guard n > 0 else { break }
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                offset += Int64(n)
            }
            count = offset
            guard ftruncate(fileDescriptor, off_t(offset)) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        }
    }

    deinit { buffer.deallocate() }

    /// Appends bytes.
    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        if buffered + chunk.count > buffer.count { try flush() }
        hasher.update(chunk)
        if chunk.count >= buffer.count {
            try writeAll(chunk, at: count)
        } else {
            UnsafeMutableRawBufferPointer(rebasing: buffer[buffered..<(buffered + chunk.count)]).copyMemory(from: chunk)
            buffered += chunk.count
        }
        count += Int64(chunk.count)
    }

    /// Writes out what is buffered (`count` includes it).
    public func flush() throws {
        guard buffered > 0 else { return }
        let pending = UnsafeRawBufferPointer(rebasing: buffer[0..<buffered])
        let at = count - Int64(buffered)
        buffered = 0
        try writeAll(pending, at: at)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fileDescriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw POSIXError(.init(rawValue: errno) ?? .EIO)
            }
            done += n
        }
    }

    /// Drops everything written: the server sent the whole blob again.
    public func reset() throws {
        buffered = 0
        count = 0
        hasher = DigestHasher()
        guard ftruncate(fileDescriptor, 0) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    /// The digest of everything written so far.
    public var digest: Digest { hasher.finalize() }
}

/// Feeds a blob download into a `BlobWriter`, enforcing the expected size,
/// and keeps an error response's body aside instead of writing it.
final class BlobSink: ResponseSink, @unchecked Sendable {
    // Unchecked: driven by one transfer thread at a time; read after it ends.
    let writer: BlobWriter
    let expectedSize: Int64
    let progress: @Sendable (Int64) -> Void
    private(set) var errorBody = Data()
    private var writingError = false
    /// A verdict that retrying cannot change.
    private(set) var error: RegistryError?
    var failedForGood: Bool { error != nil }

    init(writer: BlobWriter, expectedSize: Int64, progress: @escaping @Sendable (Int64) -> Void) {
        self.writer = writer
        self.expectedSize = expectedSize
        self.progress = progress
    }

    func prepareAttempt() {
        errorBody = Data()
        writingError = false
    }

    func begin(_ head: HTTPResponseHead) -> Bool {
        switch head.status {
        case 200:
            if writer.count > 0 { return reset() }
            return true
        case 206:
            // Content-Range: bytes START-END/TOTAL must start where we are.
            let range = head.header("Content-Range") ?? ""
            let start = range.split(whereSeparator: { $0 == " " || $0 == "-" }).dropFirst().first.flatMap { Int64($0) }
            if start != writer.count {
                _ = reset()
                return false  // retried without Range
            }
            return true
        default:
            writingError = true
            return true
        }
    }

    private func reset() -> Bool {
        do { try writer.reset() } catch {
            self.error = .io(path: "blob download", reason: Self.reason(error))
            return false
        }
        progress(0)
        return true
    }

    /// A write's failure as a person reads it (`No space left on device`), not Foundation's error domain and code.
    static func reason(_ error: any Error) -> String {
        (error as? POSIXError).map { String(cString: strerror($0.code.rawValue)) } ?? "\(error)"
    }

    func write(_ chunk: UnsafeRawBufferPointer) -> Bool {
        if writingError {
            if errorBody.count < 64 << 10 { errorBody.append(contentsOf: chunk.prefix(64 << 10 - errorBody.count)) }
            return true
        }
        guard writer.count + Int64(chunk.count) <= expectedSize else {
            error = .sizeMismatch(what: "blob", expected: expectedSize, actual: writer.count + Int64(chunk.count))
            return false
        }
        do { try writer.write(chunk) } catch {
            self.error = .io(path: "blob download", reason: Self.reason(error))
            return false
        }
        progress(writer.count)
        return true
    }
}
