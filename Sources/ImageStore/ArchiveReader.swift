import CArchive
import Foundation

/// Owns one libarchive read handle over a layer: tar (ustar, pax, GNU), plain
/// or compressed with gzip or zstd. Nothing else is accepted.
final class ArchiveReader {
    private let handle: OpaquePointer

    /// Reads the archive from `fileDescriptor` (not closed here).
    init(fileDescriptor: Int32) throws(ArchiveFailure) {
        guard let handle = archive_read_new() else { throw ArchiveFailure(message: "cannot allocate a libarchive reader") }
        self.handle = handle
        archive_read_support_filter_gzip(handle)
        archive_read_support_filter_zstd(handle)
        archive_read_support_format_tar(handle)
        archive_read_support_format_gnutar(handle)
        guard archive_read_open_fd(handle, fileDescriptor, 1 << 20) == ARCHIVE_OK else { throw failure() }
    }

    deinit { archive_read_free(handle) }

    /// The next entry, or nil at the end. The entry is valid until the next call.
    func next() throws(ArchiveFailure) -> OpaquePointer? {
        var entry: OpaquePointer?
        switch archive_read_next_header(handle, &entry) {
        case ARCHIVE_OK, ARCHIVE_WARN: return entry
        case ARCHIVE_EOF: return nil
        default: throw failure()
        }
    }

    /// Streams the current entry's data as blocks at their offsets (sparse files keep their holes).
    func readData(_ body: (UnsafeRawBufferPointer, Int64) throws -> Void) throws {
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        while true {
            switch archive_read_data_block(handle, &buffer, &size, &offset) {
            case ARCHIVE_EOF: return
            case ARCHIVE_OK, ARCHIVE_WARN: try body(UnsafeRawBufferPointer(start: buffer, count: size), Int64(offset))
            default: throw failure()
            }
        }
    }

    private func failure() -> ArchiveFailure {
        ArchiveFailure(message: archive_error_string(handle).map { String(cString: $0) } ?? "unknown libarchive error")
    }
}

/// libarchive's own message for a failed read.
struct ArchiveFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
