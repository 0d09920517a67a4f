import HTTP1Wire
import HTTPTypes
import NIOCore
import Runtime
import Testing

/// The two hand-written HTTP/1 readers of the warm path: the gateway's
/// request heads (strict: anything unsure goes to NIO's server) and the
/// FDK's responses.
struct HTTP1WireTests {
    static func parse(_ text: String) -> HTTP1RequestHead.Parse {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { HTTP1RequestHead.parse(UnsafeRawBufferPointer($0)) }
    }

    @Test func aRequestHeadIsReadAsNIOAndHTTPTypesWouldReadIt() throws {
        let text = "POST /api/items/42?verbose=1 HTTP/1.1\r\nHost: example.test:8080\r\nX-Trace:  abc \r\nContent-Length: 7\r\n"
            + "Connection: keep-alive, Close\r\nX-Trace: second\r\n\r\npayload"
        guard case .head(let head) = Self.parse(text) else { Issue.record("not read"); return }
        #expect(head.method == .post)
        #expect(head.path == "/api/items/42")
        #expect(head.query == "verbose=1")
        #expect(head.authority == "example.test:8080")
        #expect(head.fields[values: .init("X-Trace")!] == ["abc", "second"], "values trimmed, order kept")
        #expect(head.fields[HTTPField.Name("Host")!] == nil, "Host is the authority, as HTTP1ToHTTPServerCodec makes it")
        #expect(head.fields[.contentLength] == "7")
        #expect(head.contentLength == 7)
        #expect(head.closing)
        #expect(head.length == text.utf8.count - "payload".utf8.count)
    }

    @Test(arguments: [("/a/b", "/a/b", nil), ("/a?", "/a", ""), ("/a?b=1?c", "/a", "b=1?c"), ("/?x", "/", "x")] as [(String, String, String?)])
    func theTargetIsSplitAtItsFirstQuestionMark(target: String, path: String, query: String?) throws {
        guard case .head(let head) = Self.parse("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n") else { Issue.record("not read"); return }
        #expect(head.path == path)
        #expect(head.query == query)
    }

    @Test(arguments: ["", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r"])
    func aHeadWithoutItsBlankLineIsIncomplete(text: String) {
        guard case .incomplete = Self.parse(text) else { Issue.record("\(text.debugDescription) read as complete"); return }
    }

    /// What the general server must see (and answer, or refuse, as it always has).
    @Test(arguments: [
        "GET / HTTP/1.0\r\n\r\n",
        "HEAD /a HTTP/1.1\r\nHost: a\r\n\r\n",
        "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n",
        "get /a HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET http://a/b HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET  /a HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
        "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nX A: 1\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nX-A: 1\u{1}\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nX-A: caf\u{e9}\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nX-A: 1\nX-B: 2\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n",
    ])
    func anythingUnsureGoesToTheGeneralServer(text: String) {
        guard case .unsupported = Self.parse(text) else { Issue.record("\(text.debugDescription) was read"); return }
    }

    /// Bytes that cannot begin a request go to the general server at once (which answers 400), not after 16 KiB.
    @Test(arguments: ["GET /a HTTP/1.1\nHost: a\n", "\u{16}\u{3}\u{1}\u{2}\u{0}", "get /a", "LONGMETHOD /a", "GET /a HTTP/1.1\r\nHost: a\n"])
    func bytesThatCannotBeginARequestGoToTheGeneralServerAtOnce(text: String) {
        guard case .unsupported = Self.parse(text) else { Issue.record("\(text.debugDescription) waits for more"); return }
    }

    @Test func aHeadLargerThanTheLimitGoesToTheGeneralServer() {
        let text = "GET /a HTTP/1.1\r\nX-Big: " + String(repeating: "x", count: HTTP1RequestHead.maxLength)
        guard case .unsupported = Self.parse(text) else { Issue.record("a 16 KiB head without its end was kept"); return }
    }

    // The FDK's responses.

    static func responses(_ text: String, pieces: Int = 1) throws -> [HTTP1Response] {
        var parser = HTTP1ResponseParser()
        var found: [HTTP1Response] = []
        let bytes = Array(text.utf8)
        let size = max(1, (bytes.count + pieces - 1) / pieces)
        for start in stride(from: 0, to: bytes.count, by: size) {
            var buffer = ByteBuffer(bytes: bytes[start..<min(bytes.count, start + size)])
            while let response = try parser.feed(&buffer) {
                found.append(response)
                buffer = ByteBuffer()
            }
        }
        if let last = parser.end() { found.append(last) }
        return found
    }

    static let framed = [
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nFn-Http-Status: 201\r\nFn-Http-H-X-A: 1\r\nDate: now\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\nFn-Http-Status: 201\r\nFn-Http-H-X-A: 1\r\n\r\n"
            + "2\r\nhe\r\n3;ext=1\r\nllo\r\n0\r\nX-Trailer: t\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\nFn-Http-Status: 201\r\nFn-Http-H-X-A: 1\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nFn-Http-Status: 201\r\nFn-Http-H-X-A: 1\r\nConnection: close\r\n\r\nhello",
    ]

    /// By length, by chunks (with an extension and a trailer), after an
    /// interim 100, or to the connection's end; whole or a byte at a time.
    @Test(arguments: framed, [1, 1000])
    func anFDKResponseIsReadWhicheverWayItIsFramed(text: String, pieces: Int) throws {
        let found = try Self.responses(text, pieces: pieces)
        try #require(found.count == 1)
        #expect(found[0].status == 200)
        #expect(String(buffer: found[0].body) == "hello")
        guard case .success(let status, let headers, let body) = CallOutcome.map(found[0]) else { Issue.record("not a success"); return }
        #expect(status == 201)
        #expect(headers.map { "\($0.0)=\($0.1)" } == ["Content-Type=text/plain", "X-A=1"], "only the caller's headers")
        #expect(String(buffer: body) == "hello")
    }

    @Test func responsesBackToBackAreReadInTurn() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 502 Bad Gateway\r\nContent-Length: 4\r\n\r\nfail"
        let found = try Self.responses(text)
        #expect(found.map(\.status) == [200, 204, 502])
        #expect(found.map { String(buffer: $0.body) } == ["a", "", "fail"])
    }

    @Test(arguments: [
        "HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 0\r\n\r\n",
        "HTTP/1.x 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nxyz",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+1\r\nx\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 1\r\nx\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n",
    ])
    func aMalformedFDKResponseIsAnError(text: String) {
        #expect(throws: HTTP1ResponseParser.Invalid.self) { try Self.responses(text) }
    }

    @Test func aBodyOverTheLimitIsAnError() throws {
        var announced = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n")
        var refusing = HTTP1ResponseParser(maxBodyLength: 4)
        #expect(throws: HTTP1ResponseParser.Invalid.self, "refused from the head alone") { try refusing.feed(&announced) }
        var parser = HTTP1ResponseParser(maxBodyLength: 4)
        var fits = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfour")
        #expect(try parser.feed(&fits)?.body == ByteBuffer(string: "four"))
        for text in ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfive!", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n"] {
            var parser = HTTP1ResponseParser(maxBodyLength: 4)
            var bytes = ByteBuffer(string: text)
            #expect(throws: HTTP1ResponseParser.Invalid.self) { try parser.feed(&bytes) }
        }
    }

    @Test func aResponseCutOffIsNotAResponse() throws {
        #expect(try Self.responses("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello").isEmpty)
        #expect(try Self.responses("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n").isEmpty)
    }

    /// The fields a proxy never forwards, in any case, and their near misses.
    @Test(arguments: [
        ("Connection", true), ("keep-alive", true), ("Proxy-Connection", true), ("TE", true), ("Trailer", true),
        ("TRANSFER-ENCODING", true), ("upgrade", true), ("Content-Length", true),
        ("Content-Type", false), ("Trailers", false), ("te2", false), ("Connectio", false), ("Upgrade-Insecure-Requests", false), ("", false),
    ])
    func connectionFieldsAreKnownByName(name: String, isConnection: Bool) {
        #expect(isConnectionField(name) == isConnection)
    }

    /// RFC 9110's `tchar`, every byte checked; names and values as the FDK encoder and `fnrt run -H` check them.
    @Test func tokensFieldNamesAndSendableValues() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(isTokenCharacter(byte) == tchar.contains(byte), "byte \(byte)")
        }
        #expect(isFieldName("Fn-Http-H-X_Custom.Name~1") && !isFieldName("") && !isFieldName("a b") && !isFieldName("a:b"))
        #expect(isFieldName(String(repeating: "Long-Header-Name-", count: 8)), "a name longer than a small string")
        #expect(isSendableFieldValue("text/plain; q=0.5 \u{e9}") && !isSendableFieldValue("a\rb") && !isSendableFieldValue("a\nb")
                && !isSendableFieldValue("a\u{0}b"))
        #expect(!isSendableFieldValue(String(repeating: "x", count: 100) + "\r\nInjected: 1"), "a long value")
    }
}

/// The write buffer a connection keeps between messages.
struct ReusedWriteBufferTests {
    let allocator = ByteBufferAllocator()

    static func storage(_ buffer: ByteBuffer) -> UnsafeRawPointer? { buffer.withVeryUnsafeBytes { UnsafeRawPointer($0.baseAddress) } }

    @Test func aWrittenMessagesMemoryServesTheNext() {
        var reused = ReusedWriteBuffer()
        var first = reused.take(capacity: 64, allocator: allocator)
        first.writeString("first message")
        let memory = Self.storage(first)
        reused.keep(first)
        first = ByteBuffer()  // written: nothing else holds it
        var second = reused.take(capacity: 64, allocator: allocator)
        #expect(Self.storage(second) == memory)
        #expect(second.readableBytes == 0, "cleared")
        second.writeString("second")
        #expect(String(buffer: second) == "second")
    }

    @Test func aMessageStillBeingWrittenIsLeftAlone() {
        var reused = ReusedWriteBuffer()
        var first = reused.take(capacity: 64, allocator: allocator)
        first.writeString("first message")
        reused.keep(first)
        // `first` stays held, as by a write not yet done.
        var second = reused.take(capacity: 64, allocator: allocator)
        second.writeString("second")
        #expect(String(buffer: first) == "first message")
        #expect(String(buffer: second) == "second")
        #expect(Self.storage(second) != Self.storage(first))
    }

    @Test func aBufferGrownPastTheLimitIsNotKept() {
        var reused = ReusedWriteBuffer()
        var big = reused.take(capacity: ReusedWriteBuffer.maxKept + 1, allocator: allocator)
        big.writeRepeatingByte(0x61, count: ReusedWriteBuffer.maxKept + 1)
        let memory = Self.storage(big)
        reused.keep(big)
        big = ByteBuffer()
        let next = reused.take(capacity: 64, allocator: allocator)
        #expect(Self.storage(next) != memory)
        #expect(next.capacity < ReusedWriteBuffer.maxKept)
    }
}
