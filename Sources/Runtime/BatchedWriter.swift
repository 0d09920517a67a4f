import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Lines appended from many threads and written together, as nginx's
/// `access_log ... buffer= flush=` does: when `batchBytes` wait, or within
/// `interval` of the first line that waits, on a dispatch queue, so that a
/// caller (an event loop serving a request) never spends its time in
/// write(2); by the caller when four batches wait (the writes cannot keep
/// up); at once on `flush()`. A crash loses at most the last `interval`.
/// One `output` at a time, in order: the lines are swapped out under a lock
/// and written outside it, so a caller appending never waits for a write.
public final class BatchedWriter: Sendable {
    private let batchBytes: Int
    private let interval: DispatchTimeInterval
    private let output: @Sendable (UnsafeRawBufferPointer) -> Void
    /// The lines that wait, and whether a flush is due for them.
    private let pending: Mutex<(bytes: [UInt8], flushDue: Bool)>
    /// The lines being written, swapped with the pending ones.
    private let writing: Mutex<[UInt8]>

    /// `output` writes one batch (to a file, standard error...).
    public init(batchBytes: Int = 16 << 10, interval: Duration = .milliseconds(100),
                output: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        self.batchBytes = batchBytes
        self.interval = .nanoseconds(Int(interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000))
        self.output = output
        var bytes: [UInt8] = []
        bytes.reserveCapacity(batchBytes + 1024)
        pending = Mutex((bytes, false))
        writing = Mutex(bytes)
    }

    /// Adds the bytes `line` appends.
    public func append(_ line: (inout [UInt8]) -> Void) {
        let (before, after, scheduleFlush) = pending.withLock { state in
            let before = state.bytes.count
            line(&state.bytes)
            defer { state.flushDue = true }
            return (before, state.bytes.count, !state.flushDue)
        }
        if after >= 4 * batchBytes {
            flush()
        } else if before < batchBytes, after >= batchBytes {
            DispatchQueue.global().async { self.flush() }
        } else if scheduleFlush {
            DispatchQueue.global().asyncAfter(deadline: .now() + interval) { self.flush() }
        }
    }

    /// Writes the lines that wait.
    public func flush() {
        writing.withLock { lines in
            pending.withLock { state in
                swap(&state.bytes, &lines)
                state.flushDue = false
            }
            guard !lines.isEmpty else { return }
            lines.withUnsafeBytes(output)
            lines.removeAll(keepingCapacity: true)
        }
    }

    /// Writes all of `bytes` to `descriptor`, through short writes and
    /// interruptions; false when a write fails.
    @discardableResult
    public static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Bool {
        var written = 0
        while written < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if count > 0 { written += count } else if count == 0 || errno != EINTR { return false }
        }
        return true
    }
}
