#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A call as the function sees it: the body and what Fn says about it.
public struct FunctionRequest: Sendable {
    /// `Fn-Call-Id`.
    public var callID: String
    /// `Fn-Deadline`, RFC 3339.
    public var deadline: String
    /// The caller's HTTP method, URL and headers when the call came through
    /// an HTTP route (`Fn-Http-Method`, `Fn-Http-Request-Url`, `Fn-Http-H-*`).
    public var method: String?
    public var requestURL: String?
    /// The caller's headers (lowercased names): from `Fn-Http-H-*`, plus
    /// `content-type`; and for a call that did not come through an HTTP
    /// route (no `Fn-Intent: httprequest`: Fn's `/invoke`, `fnrt run -H`),
    /// the call's own headers too, less `Fn-*` and the connection's (`host`,
    /// `content-length`, `transfer-encoding`, `connection`), as fdk-go and
    /// fdk-python give them.
    public var headers: [String: String]
    public var body: [UInt8]

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What the function answers.
public struct FunctionResponse: Sendable {
    /// The HTTP status for the caller (`Fn-Http-Status`).
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int = 200, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: Int = 200, contentType: String = "text/plain", _ text: String) {
        self.init(status: status, headers: ["Content-Type": contentType], body: Array(text.utf8))
    }
}

/// A failure the function reports: the runtime answers the caller 502.
public struct FunctionError: Error {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// Serves Fn's http-stream contract (shared/contracts/fn-fdk.md) with no
/// dependency beyond the C library, so functions start fast: binds a Unix
/// socket beside `FN_LISTENER`, makes it 0666, links `lsnr.sock` to it
/// (relative), and answers `POST /call` one at a time.
public enum FDK {
    public static let version = "fdk-swift/0.1.0"

    /// Serves `handler` until the process is stopped. Exits with a message
    /// on standard error when the environment is not Fn's.
    public static func serve(_ handler: (FunctionRequest) throws -> FunctionResponse) -> Never {
        let environment = Environment()
        if environment["FN_LISTENER"] == nil, environment["FDK_RUN_ONCE"] == "1" { runOnce(handler) }
        guard environment["FN_FORMAT"] == "http-stream" || environment["FN_FORMAT"] == nil else {
            die("FN_FORMAT=\(environment["FN_FORMAT"] ?? "") is not supported; only http-stream")
        }
        guard let listener = environment["FN_LISTENER"], listener.hasPrefix("unix:") else {
            die("FN_LISTENER must be set to unix:/path/lsnr.sock")
        }
        let path = String(listener.dropFirst("unix:".count))
        let server = listen(at: path)
        signal(SIGPIPE, SIG_IGN)
        while true {
            let connection = accept(server, nil, nil)
            if connection < 0 { continue }
            serveConnection(connection, handler)
            close(connection)
        }
    }

    /// Outside Fn (`FDK_RUN_ONCE=1`, no `FN_LISTENER`): one call with standard
    /// input as the body, the response body on standard output, then exit
    /// (0, or 1 when the function failed). For benchmarks and debugging.
    static func runOnce(_ handler: (FunctionRequest) throws -> FunctionResponse) -> Never {
        var body: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            body += chunk[0..<n]
        }
        do {
            let response = try handler(FunctionRequest(callID: "once", deadline: "", method: nil, requestURL: nil, headers: [:], body: body))
            _ = writeAll(1, response.body)
            exit(response.status < 400 ? 0 : 1)
        } catch {
            die("\(error)")
        }
    }

    /// Binds a socket beside `path` and links `path` to it, so that the
    /// runtime sees the listener appear at once, ready.
    static func listen(at path: String) -> Int32 {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let linkName = path.split(separator: "/").last.map(String.init) ?? "lsnr.sock"
        let phonyName = "phony\(getpid())\(linkName)"
        let phony = directory + "/" + phonyName
        unlink(phony)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { die("socket: \(errnoText())") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(phony.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { die("socket path too long: \(phony)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { die("bind \(phony): \(errnoText())") }
        guard chmod(phony, 0o666) == 0 else { die("chmod \(phony): \(errnoText())") }
        guard Glibc.listen(fd, 16) == 0 else { die("listen: \(errnoText())") }
        unlink(path)
        guard symlink(phonyName, path) == 0 else { die("symlink \(path): \(errnoText())") }
        return fd
    }

    static func serveConnection(_ fd: Int32, _ handler: (FunctionRequest) throws -> FunctionResponse) {
        var reader = HTTPReader(fd: fd)
        while let request = reader.readRequest() {
            let response: [UInt8]
            if request.method != "POST" || !(request.target == "/call" || request.target.hasPrefix("/call?")) {
                response = encode(status: 404, headers: [:], body: Array("not found\n".utf8), fnStatus: nil)
            } else {
                var call = FunctionRequest(callID: request.headers["fn-call-id"] ?? "", deadline: request.headers["fn-deadline"] ?? "",
                                           method: request.headers["fn-http-method"], requestURL: request.headers["fn-http-request-url"],
                                           headers: [:], body: request.body)
                // As fdk-go and fdk-python tell an HTTP route's call: by its intent.
                let fromHTTPRoute = request.headers["fn-intent"] == "httprequest" || call.method != nil
                for (name, value) in request.headers {
                    if name.hasPrefix("fn-http-h-") {
                        call.headers[String(name.dropFirst("fn-http-h-".count))] = value
                    } else if name == "content-type" || (!fromHTTPRoute && !name.hasPrefix("fn-") && !Self.connectionFields.contains(name)) {
                        call.headers[name] = value
                    }
                }
                do {
                    let result = try handler(call)
                    var headers: [String: String] = [:]
                    for (name, value) in result.headers {
                        if name.lowercased() == "content-type" { headers["Content-Type"] = value } else { headers["Fn-Http-H-\(name)"] = value }
                    }
                    response = encode(status: 200, headers: headers, body: result.body, fnStatus: result.status)
                } catch let error as FunctionError {
                    response = encode(status: 502, headers: ["Content-Type": "text/plain"], body: Array((error.message + "\n").utf8), fnStatus: 502)
                } catch {
                    response = encode(status: 502, headers: ["Content-Type": "text/plain"], body: Array("\(error)\n".utf8), fnStatus: 502)
                }
            }
            guard writeAll(fd, response) else { return }
        }
    }

    /// The headers of the call's connection, not the caller's.
    static let connectionFields: Set<String> = ["host", "content-length", "transfer-encoding", "connection"]

    static func encode(status: Int, headers: [String: String], body: [UInt8], fnStatus: Int?) -> [UInt8] {
        let reason = status == 200 ? "OK" : status == 502 ? "Bad Gateway" : status == 404 ? "Not Found" : "Status"
        var head = "HTTP/1.1 \(status) \(reason)\r\nContent-Length: \(body.count)\r\nFn-Fdk-Version: \(version)\r\nFn-Fdk-Runtime: swift\r\n"
        if let fnStatus { head += "Fn-Http-Status: \(fnStatus)\r\n" }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 { if errno == EINTR { continue }; return false }
            done += n
        }
        return true
    }

    static func die(_ message: String) -> Never {
        let line = "fdk-swift: \(message)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        exit(1)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// The process environment as a dictionary.
public struct Environment {
    private var values: [String: String] = [:]

    public init() {
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                values[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
    }

    public subscript(_ name: String) -> String? { values[name] }
}

/// A minimal HTTP/1.1 request reader: request line, headers, and a body by
/// Content-Length or chunked encoding.
struct HTTPReader {
    struct Request { var method: String; var target: String; var headers: [String: String]; var body: [UInt8] }
    let fd: Int32
    var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    mutating func readLine() -> String? {
        while true {
            if let i = buffer.firstIndex(of: 10) {
                var line = Array(buffer[0..<i])
                buffer.removeFirst(i + 1)
                if line.last == 13 { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard fill() else { return nil }
        }
    }

    mutating func readBytes(_ count: Int) -> [UInt8]? {
        while buffer.count < count { guard fill() else { return nil } }
        let bytes = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return bytes
    }

    mutating func readRequest() -> Request? {
        guard let line = readLine() else { return nil }
        let parts = line.split(separator: " ")
        guard parts.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        while let header = readLine(), !header.isEmpty {
            guard let colon = header.firstIndex(of: ":") else { continue }
            let name = header[..<colon].lowercased()
            let value = String(header[header.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        var body: [UInt8] = []
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while let sizeLine = readLine(), let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) {
                if size == 0 { while let trailer = readLine(), !trailer.isEmpty {}; break }
                guard let chunk = readBytes(size) else { return nil }
                body += chunk
                _ = readLine()
            }
        } else if let length = headers["content-length"].flatMap({ Int($0) }), length > 0 {
            guard let bytes = readBytes(length) else { return nil }
            body = bytes
        }
        return Request(method: String(parts[0]), target: String(parts[1]), headers: headers, body: body)
    }
}
