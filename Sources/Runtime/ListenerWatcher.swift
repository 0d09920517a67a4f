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
            try await onOwnThread { try blockingWait(directory: directory, name: name, timeout: timeout, cancel: cancel) }
        } onCancel: {
            cancel.fire()
        }
    }

    /// A pipe whose read end becomes readable when the wait should stop.
    final class CancelSignal: Sendable {
        let fds: (read: Int32, write: Int32)
        init() {
            // Out of descriptors: no pipe, and nothing closed later (not descriptor 0, another's).
            var pair: [Int32] = [-1, -1]
            if pipe(&pair) != 0 { pair = [-1, -1] }
            for fd in pair where fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            fds = (pair[0], pair[1])
        }
        func fire() { _ = write(fds.write, "x", 1) }
        deinit { if fds.read >= 0 { close(fds.read); close(fds.write) } }
    }

    private static func blockingWait(directory: String, name: String, timeout: Duration, cancel: CancelSignal) throws -> Outcome {
        let inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard inotify >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        // Closing an inotify instance waits for a kernel grace period (about
        // 10 ms here): done on another thread, so the answer is not held up.
        defer { DispatchQueue.global(qos: .utility).async { close(inotify) } }
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
            let milliseconds = Int32(min(remaining.milliseconds + 1, 3_600_000))
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

extension ContainerDriver {
    /// Waits for the container's listener, racing it against the container's
    /// exit (`exited` returns the exit code once the container stops); maps
    /// what came first to success or a `ContainerError` with the last output.
    func waitForListener(_ container: Container, spec: FunctionSpec, timeout: Duration,
                         exited: @escaping @Sendable () async -> Int?) async throws {
        let function = "\(spec.app)/\(spec.name)"
        let first = FirstOf<StartupEvent>()
        let watcher = Task {
            do {
                let outcome = try await ListenerWatcher.wait(directory: container.iofs, timeout: timeout)
                first.offer(outcome == .ready ? .listening : .timedOut)
            } catch let error as ListenerWatcher.ListenerError {
                first.offer(.failed(error.reason))
            } catch {}
        }
        let exit = Task {
            if let code = await exited() { first.offer(.exited(code)) }
        }
        let event = await first.value
        watcher.cancel()
        exit.cancel()
        switch event {
        case .listening: return
        case .timedOut: throw ContainerError.startupTimeout(function: function, after: timeout, logs: await logs(container, lines: 20))
        case .exited(let code): throw ContainerError.exitedAtStartup(function: function, code: code, logs: await logs(container, lines: 20))
        case .failed(let reason): throw ContainerError.badListener(function: function, reason: reason)
        }
    }
}

/// What happened first while a container started.
enum StartupEvent: Sendable { case listening, timedOut, exited(Int), failed(String) }

/// The first of several racing results; later offers are ignored.
final class FirstOf<Value: Sendable>: Sendable {
    private struct State { var value: Value?; var waiter: CheckedContinuation<Value, Never>? }
    private let state = Mutex(State())

    func offer(_ value: Value) {
        let waiter: CheckedContinuation<Value, Never>? = state.withLock { s in
            guard s.value == nil else { return nil }
            s.value = value
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: value)
    }

    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready: Value? = state.withLock { s in
                    if let v = s.value { return v }
                    s.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
