import Foundation
import Synchronization

/// Waits for a function's listener socket with inotify: no polling loop, the
/// kernel says when `lsnr.sock` appears. Accepts only a socket, or a relative
/// symbolic link in the same directory to one (fdk-python links
/// `lsnr.sock -> phonylsnr.sock`); anything else is refused, since the
/// container is not trusted.
enum ListenerWatcher {
    enum Outcome: Equatable { case ready, timedOut }

    static func wait(directory: String, name: String = "lsnr.sock", timeout: Duration) async throws -> Outcome {
        let cancel = CancelSignal()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                Thread.detachNewThread {
                    continuation.resume(with: Result { try blockingWait(directory: directory, name: name, timeout: timeout, cancel: cancel) })
                }
            }
        } onCancel: {
            cancel.fire()
        }
    }

    /// A pipe whose read end becomes readable when the wait should stop.
    final class CancelSignal: Sendable {
        let fds: (read: Int32, write: Int32)
        init() {
            var pair: [Int32] = [0, 0]
            pipe(&pair)
            for fd in pair { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            fds = (pair[0], pair[1])
        }
        func fire() { _ = write(fds.write, "x", 1) }
        deinit { close(fds.read); close(fds.write) }
    }

    private static func blockingWait(directory: String, name: String, timeout: Duration, cancel: CancelSignal) throws -> Outcome {
        let inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard inotify >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        defer { close(inotify) }
        guard inotify_add_watch(inotify, directory, UInt32(IN_CREATE | IN_MOVED_TO)) >= 0 else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        // It may be there already (watch first, then look, so nothing slips between).
        if try check(directory: directory, name: name) { return .ready }
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return .timedOut }
            let milliseconds = Int32(min(Double(remaining.components.seconds) * 1000 + Double(remaining.components.attoseconds) / 1e15 + 1, 3_600_000))
            var fds = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: cancel.fds.read, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, milliseconds)
            if ready < 0, errno == EINTR { continue }
            if fds[1].revents != 0 { throw CancellationError() }
            if fds[0].revents == 0 { continue }
            let n = read(inotify, &buffer, buffer.count)
            guard n > 0 else { continue }
            var offset = 0
            var sawName = false
            while offset + MemoryLayout<inotify_event>.size <= n {
                let (length, eventName): (Int, String) = buffer.withUnsafeBytes { raw in
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let nameStart = offset + MemoryLayout<inotify_event>.size
                    let bytes = raw[nameStart..<min(n, nameStart + Int(event.len))].prefix { $0 != 0 }
                    return (Int(event.len), String(decoding: bytes, as: UTF8.self))
                }
                if eventName == name { sawName = true }
                offset += MemoryLayout<inotify_event>.size + length
            }
            if sawName, try check(directory: directory, name: name) { return .ready }
        }
    }

    /// True when `name` is a usable listener; throws when it is there but not acceptable.
    static func check(directory: String, name: String) throws -> Bool {
        var st = stat()
        guard lstat("\(directory)/\(name)", &st) == 0 else { return false }
        switch st.st_mode & S_IFMT {
        case S_IFSOCK: return true
        case S_IFLNK:
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(name)")) ?? ""
            guard !target.isEmpty, !target.contains("/"), target != ".", target != ".." else {
                throw ListenerError(reason: "\(name) links to '\(target)', outside its directory")
            }
            var targetStat = stat()
            guard lstat("\(directory)/\(target)", &targetStat) == 0, targetStat.st_mode & S_IFMT == S_IFSOCK else {
                throw ListenerError(reason: "\(name) links to '\(target)', which is not a socket")
            }
            return true
        default:
            throw ListenerError(reason: "\(name) is not a socket")
        }
    }

    struct ListenerError: Error { var reason: String }
}
