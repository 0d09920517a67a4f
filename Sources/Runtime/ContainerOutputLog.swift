import CLinux
import Dispatch
import Foundation
import ImageStore

/// A container's standard output and error as the OCI driver keeps them:
/// read from a pipe and appended to `path`, which moves to `path.1` once it
/// holds `limit` bytes. A chatty function that stays hot for days so holds
/// at most two files of `limit` bytes, as Docker's json-file driver does
/// with `max-size` and `max-file: 2`; before, its one file grew until the
/// container went. The pipe is always drained, so a full disk drops output
/// and never blocks the function.
final class ContainerOutputLog: @unchecked Sendable {  // the mutable state is touched on `Self.queue` only
    /// Bytes per file: the newest output is in `path`, the output before it in `path.1`.
    static let limit = 1 << 20

    let path: String
    /// The pipe's write end: the child's standard output and error. Closed by `closeWriteEnd()` once the child has its copies.
    let writeEnd: Int32
    private let readEnd: Int32
    private let source: any DispatchSourceRead
    private var file: Int32 = -1
    private var size = 0
    private var discarded = false
    /// The read end is closed (the pipe ended, or `discard()`).
    private var ended = false
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)

    /// The output of every container shares one queue: its reads are short and never block.
    static let queue = DispatchQueue(label: "fnrt.container-output")

    init(path: String) throws {
        var ends: [Int32] = [-1, -1]
        guard clinux_pipe_cloexec(&ends) == 0 else { throw StoreError.io(path: path, operation: "create a pipe for", errno: errno) }
        // Only the reading end is non-blocking: the function writes to a blocking descriptor, as to a file.
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
        (self.path, self.readEnd, self.writeEnd) = (path, ends[0], ends[1])
        source = DispatchSource.makeReadSource(fileDescriptor: ends[0], queue: Self.queue)
        // The handlers hold the log until the pipe ends (every writer gone) or `discard()`.
        source.setEventHandler { self.drain() }
        source.setCancelHandler {
            self.ended = true
            close(self.readEnd)
            self.closeFile()
        }
        source.resume()
    }

    /// Ours goes once the child has its own copies, so that the pipe ends with the child's last writer.
    func closeWriteEnd() { close(writeEnd) }

    /// Stops keeping output (the container is being removed, its directory with it).
    func discard() {
        Self.queue.sync {
            discarded = true
            closeFile()
        }
        source.cancel()
    }

    /// The last `count` lines of output, oldest first: what the pipe holds is kept first.
    func lastLines(_ count: Int) -> [String] {
        Self.queue.sync { if !ended { drain() } }
        return Self.lastLines(count, at: path)
    }

    /// The last `count` lines kept at `path`, oldest first.
    static func lastLines(_ count: Int, at path: String) -> [String] {
        let older = FileManager.default.contents(atPath: path + ".1") ?? Data()
        let newer = FileManager.default.contents(atPath: path) ?? Data()
        return Array(String(decoding: older + newer, as: UTF8.self).split(separator: "\n").map(String.init).suffix(count))
    }

    private func drain() {
        while true {
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count > 0 {
                if !discarded { keep(count) }
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                if count == 0 || errno != EAGAIN { source.cancel() }  // the end of the pipe, or a broken one
                return
            }
        }
    }

    /// Appends the first `count` bytes of `buffer`, moving the file to `.1` first when they would take it past the limit.
    private func keep(_ count: Int) {
        if file >= 0, size > 0, size + count > Self.limit {
            closeFile()
            guard rename(path, path + ".1") == 0 else { return }
        }
        if file < 0 {
            file = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard file >= 0 else { return }  // dropped: its directory is gone, or the disk refuses
            var status = stat()
            size = fstat(file, &status) == 0 ? Int(status.st_size) : 0
        }
        var written = 0
        while written < count {
            let result = buffer.withUnsafeBytes { write(file, $0.baseAddress! + written, count - written) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { break }  // a full disk: the rest of this output is dropped
            written += result
        }
        size += written
    }

    private func closeFile() {
        if file >= 0 { close(file) }
        file = -1
    }
}
