import CCurl
import Dispatch
import Foundation
import Synchronization

/// `HTTPTransport` over libcurl easy handles. Each transfer blocks a thread
/// of its own (libcurl blocks), never one of Swift's cooperative pool nor of
/// a concurrent dispatch queue: on Linux those run as many blocked blocks at
/// once as there are cores and add a thread a second, so that eight
/// concurrent Docker calls for a burst of cold starts took 5 s, against
/// 0.2 s for one. Handles are pooled so that connections to a registry, or
/// to Docker, are kept alive and reused.
public final class CurlTransport: HTTPTransport {
    public static let shared = CurlTransport()

    private let idleHandles = Mutex<[CurlHandle]>([])
    /// Seconds a connection may take to establish.
    public let connectTimeout: Int
    /// Abort a transfer slower than 1 byte/s for this many seconds (0: never, for streams that idle).
    public let stallTimeout: Int
    /// Connect to this Unix socket instead of the URL's host (Docker's socket).
    public let unixSocketPath: String?

    public init(connectTimeout: Int = 30, stallTimeout: Int = 60, unixSocketPath: String? = nil) {
        self.connectTimeout = connectTimeout
        self.stallTimeout = stallTimeout
        self.unixSocketPath = unixSocketPath
        _ = Self.globalInit
    }

    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    public func perform(_ request: HTTPRequest, sink: any ResponseSink) async throws -> HTTPResponseHead {
        let transfer = Transfer(request: request, sink: sink)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponseHead, any Error>) in
                Thread.detachNewThread { [self] in
                    let handle = idleHandles.withLock { $0.popLast() } ?? CurlHandle()
                    let result = handle.run(transfer, connectTimeout: connectTimeout, stallTimeout: stallTimeout, unixSocketPath: unixSocketPath)
                    idleHandles.withLock { if $0.count < 16 { $0.append(handle) } }
                    continuation.resume(with: result)
                }
            }
        } onCancel: {
            transfer.cancelled.store(true, ordering: .relaxed)
        }
    }
}

/// The state of one transfer, reached from libcurl's C callbacks.
final class Transfer: Sendable {
    let request: HTTPRequest
    let sink: any ResponseSink
    let cancelled = Atomic<Bool>(false)
    // The fields below are touched only by the thread running the transfer.
    nonisolated(unsafe) var headers: [(name: String, value: String)] = []
    nonisolated(unsafe) var status = 0
    nonisolated(unsafe) var begun = false
    nonisolated(unsafe) var sinkAborted = false
    nonisolated(unsafe) var uploadOffset: Int64 = 0

    init(request: HTTPRequest, sink: any ResponseSink) {
        self.request = request
        self.sink = sink
    }

    var head: HTTPResponseHead { HTTPResponseHead(status: status, headers: headers) }

    /// Starts the sink once; false when it refused.
    func beginIfNeeded() -> Bool {
        if begun { return !sinkAborted }
        begun = true
        if !sink.begin(head) { sinkAborted = true }
        return !sinkAborted
    }
}

/// Owns one libcurl easy handle.
// Unchecked Sendable: the pool hands a handle to one transfer at a time, and
// only that transfer's thread touches it until it is returned.
final class CurlHandle: @unchecked Sendable {
    private let easy: UnsafeMutableRawPointer
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    init() {
        easy = curl_easy_init()
    }

    deinit { curl_easy_cleanup(easy) }

    func run(_ transfer: Transfer, connectTimeout: Int, stallTimeout: Int, unixSocketPath: String?) -> Result<HTTPResponseHead, any Error> {
        curl_easy_reset(easy)
        let request = transfer.request
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        // No "Expect: 100-continue" round trip before uploads.
        headerList = curl_slist_append(headerList, "Expect:")

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        errorBuffer.withUnsafeMutableBufferPointer { _ = ccurl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, $0.baseAddress) }
        errorBuffer[0] = 0
        _ = ccurl_setopt_string(easy, CURLOPT_URL, request.url.absoluteString)
        _ = ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        _ = ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT, connectTimeout)
        if stallTimeout > 0 {
            _ = ccurl_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1)
            _ = ccurl_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, stallTimeout)
        }
        if let unixSocketPath { _ = ccurl_setopt_string(easy, CURLOPT_UNIX_SOCKET_PATH, unixSocketPath) }
        _ = ccurl_setopt_long(easy, CURLOPT_BUFFERSIZE, 512 * 1024)
        _ = ccurl_setopt_long(easy, CURLOPT_TCP_NODELAY, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        _ = ccurl_setopt_string(easy, CURLOPT_USERAGENT, "fnrt/0.1")
        _ = ccurl_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList)
        _ = ccurl_setopt_pointer(easy, CURLOPT_HEADERDATA, context)
        _ = ccurl_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION, curlHeaderCallback)
        _ = ccurl_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        _ = ccurl_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, curlWriteCallback)
        _ = ccurl_setopt_pointer(easy, CURLOPT_XFERINFODATA, context)
        _ = ccurl_setopt_long(easy, CURLOPT_NOPROGRESS, 0)
        _ = ccurl_setopt_pointer(easy, CURLOPT_XFERINFOFUNCTION, unsafeBitCast(curlProgressCallback, to: UnsafeMutableRawPointer.self))

        switch request.method {
        case "GET": _ = ccurl_setopt_long(easy, CURLOPT_HTTPGET, 1)
        case "HEAD": _ = ccurl_setopt_long(easy, CURLOPT_NOBODY, 1)
        default:
            _ = ccurl_setopt_long(easy, CURLOPT_UPLOAD, 1)
            _ = ccurl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method)
            // A stream of unknown length goes chunked.
            _ = ccurl_setopt_off_t(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body?.length ?? 0))
            _ = ccurl_setopt_pointer(easy, CURLOPT_READDATA, context)
            _ = ccurl_setopt_data_callback(easy, CURLOPT_READFUNCTION, curlReadCallback)
            // A body in memory or a file can be sent again: libcurl rewinds it when a reused
            // connection turns out dead (an engine just restarted), where it failed with
            // "necessary data rewind wasn't possible".
            _ = ccurl_setopt_pointer(easy, CURLOPT_SEEKDATA, context)
            _ = ccurl_setopt_seek_callback(easy, curlSeekCallback)
        }

        let code = curl_easy_perform(easy)
        var status = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        transfer.status = status
        if code == CURLE_OK {
            guard transfer.beginIfNeeded() else {
                return .failure(TransportError(code: -1, message: "aborted by the receiver", url: request.url.absoluteString,
                                               isTransient: false, abortedBySink: true))
            }
            return .success(transfer.head)
        }
        let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        if transfer.sinkAborted || code == CURLE_WRITE_ERROR {
            return .failure(TransportError(code: Int(code.rawValue), message: "aborted by the receiver", url: request.url.absoluteString,
                                           isTransient: false, abortedBySink: true))
        }
        if code == CURLE_ABORTED_BY_CALLBACK {
            return .failure(CancellationError())
        }
        let transient: Set<CURLcode> = [
            CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT, CURLE_PARTIAL_FILE,
            CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_SSL_CONNECT_ERROR,
        ]
        return .failure(TransportError(code: Int(code.rawValue), message: "\(message) (curl error \(code.rawValue))",
                                       url: request.url.absoluteString, isTransient: transient.contains(code)))
    }
}

private func transfer(_ pointer: UnsafeMutableRawPointer?) -> Transfer {
    Unmanaged<Transfer>.fromOpaque(pointer!).takeUnretainedValue()
}

private let curlHeaderCallback: ccurl_data_callback = { data, size, count, userdata in
    let transfer = transfer(userdata)
    let length = size * count
    guard let data, let line = String(bytes: UnsafeRawBufferPointer(start: data, count: length), encoding: .isoLatin1) else {
        return length
    }
    let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.hasPrefix("HTTP/") {
        // A new response (after 100 Continue, for instance): start over.
        transfer.headers = []
        transfer.status = Int(trimmed.split(separator: " ").dropFirst().first ?? "") ?? 0
    } else if let colon = trimmed.firstIndex(of: ":") {
        let name = String(trimmed[..<colon])
        let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        transfer.headers.append((name, value))
    }
    return length
}

private let curlWriteCallback: ccurl_data_callback = { data, size, count, userdata in
    let transfer = transfer(userdata)
    let length = size * count
    guard transfer.beginIfNeeded(), transfer.sink.write(UnsafeRawBufferPointer(start: data, count: length)) else {
        transfer.sinkAborted = true
        return 0
    }
    return length
}

private let curlReadCallback: ccurl_data_callback = { buffer, size, count, userdata in
    let transfer = transfer(userdata)
    guard let buffer, let body = transfer.request.body else { return 0 }
    let capacity = size * count
    if case .stream(let fd) = body {
        while true {
            let got = read(fd, buffer, capacity)
            if got < 0, errno == EINTR { continue }
            return got < 0 ? ccurl_readfunc_abort() : got
        }
    }
    let remaining = Int(body.length - transfer.uploadOffset)
    let n = min(capacity, remaining)
    guard n > 0 else { return 0 }
    switch body {
    case .data(let data):
        let start = data.startIndex + Int(transfer.uploadOffset)
        data.copyBytes(to: UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: UInt8.self), from: start..<(start + n))
        transfer.uploadOffset += Int64(n)
        return n
    case .file(let fd, let offset, _):
        let got = pread(fd, buffer, n, off_t(offset + transfer.uploadOffset))
        guard got > 0 else { return ccurl_readfunc_abort() }
        transfer.uploadOffset += Int64(got)
        return got
    case .stream:
        return 0  // handled above
    }
}

private let curlSeekCallback: ccurl_seek_callback = { userdata, offset, origin in
    let transfer = transfer(userdata)
    guard origin == SEEK_SET, let body = transfer.request.body, offset >= 0, offset <= body.length else { return 2 }  // CURL_SEEKFUNC_CANTSEEK
    if case .stream = body { return 2 }
    transfer.uploadOffset = Int64(offset)
    return 0  // CURL_SEEKFUNC_OK
}

private let curlProgressCallback: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> Int32 = {
    userdata, _, _, _, _ in
    transfer(userdata).cancelled.load(ordering: .relaxed) ? 1 : 0
}
