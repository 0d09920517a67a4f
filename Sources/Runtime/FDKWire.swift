import NIOCore

/// The HTTP/1.1 bytes of a call to an FDK, written as one buffer: the
/// request line, the call's headers (its own `Fn-Call-Id`, `Fn-Deadline`,
/// `Content-Length` and `Host` replaced), then the body.
enum FDKRequestEncoder {
    static func encode(_ request: FDKRequest, deadline: String, into out: inout ByteBuffer) {
        out.writeStaticString("POST /call HTTP/1.1\r\n")
        for (name, value) in request.headers where !isReplaced(name) {
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("Fn-Call-Id: ")
        out.writeString(request.callID)
        out.writeStaticString("\r\nFn-Deadline: ")
        out.writeString(deadline)
        out.writeStaticString("\r\nContent-Length: ")
        out.writeString(String(request.body.readableBytes))
        out.writeStaticString("\r\nHost: localhost\r\n\r\n")
        var body = request.body
        out.writeBuffer(&body)
    }

    private static func isReplaced(_ name: String) -> Bool {
        switch name.utf8.count {
        case 10: equalIgnoringCase(name.utf8, "fn-call-id")
        case 11: equalIgnoringCase(name.utf8, "fn-deadline")
        case 14: equalIgnoringCase(name.utf8, "content-length")
        case 4: equalIgnoringCase(name.utf8, "host")
        default: false
        }
    }
}

/// Reads an FDK's HTTP/1.x responses from the connection's bytes: the
/// status line, the headers a call's outcome needs (`Fn-Http-Status`,
/// `Fn-Http-H-*`, `Content-Type`; the rest are read and dropped), and the
/// body framed by `Content-Length`, by chunks, or by the connection's end.
/// Interim (1xx) responses are skipped. Anything outside the grammar is an
/// error: the connection cannot be trusted with another call.
struct FDKResponseParser {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    private enum State {
        case head
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers
        case untilClose
    }

    private var state = State.head
    private var buffer: ByteBuffer?
    private var status = 0
    private var headers: [(String, String)] = []
    private var body = ByteBuffer()

    /// Heads (and chunk-size lines) longer than this are refused.
    static let maxHeadLength = 64 << 10

    /// Takes bytes read; returns a response once one is whole.
    mutating func feed(_ bytes: inout ByteBuffer) throws -> FDKResponse? {
        if buffer == nil { buffer = bytes } else { buffer!.writeBuffer(&bytes) }
        defer { if buffer?.readableBytes == 0 { buffer = nil } }
        while var input = buffer {
            buffer = nil  // uniquely referenced while it is read
            defer { buffer = input }
            switch state {
            case .head:
                guard let line = try headLength(input) else { return nil }
                try readHead(input.readSlice(length: line)!)
            case .body(let remaining):
                let slice = input.readSlice(length: min(remaining, input.readableBytes))!
                append(slice)
                if remaining > slice.readableBytes { state = .body(remaining: remaining - slice.readableBytes); return nil }
                return finish()
            case .chunkSize:
                guard let line = try readLine(&input) else { return nil }
                let digits = line.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != 0x20 && $0 != 0x09 }
                guard !digits.isEmpty, digits.count <= 15, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) else {
                    throw Invalid(description: "the function's response has an invalid chunk size")
                }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard input.readableBytes > 0 else { return nil }
                let slice = input.readSlice(length: min(remaining, input.readableBytes))!
                append(slice)
                state = remaining > slice.readableBytes ? .chunkData(remaining: remaining - slice.readableBytes) : .chunkEnd
            case .chunkEnd:
                guard let line = try readLine(&input) else { return nil }
                guard line.isEmpty else { throw Invalid(description: "the function's response has a chunk longer than its size") }
                state = .chunkSize
            case .trailers:
                guard let line = try readLine(&input) else { return nil }
                if line.isEmpty { return finish() }
            case .untilClose:
                append(input.readSlice(length: input.readableBytes)!)
                return nil
            }
        }
        return nil
    }

    /// The connection ended: a body read to its end is whole; anything else was cut off.
    mutating func end() -> FDKResponse? {
        guard case .untilClose = state else { return nil }
        return finish()
    }

    /// True between responses (nothing of one read yet).
    var isIdle: Bool {
        if case .head = state { return buffer == nil }
        return false
    }

    private mutating func append(_ slice: ByteBuffer) {
        var slice = slice
        if body.readableBytes == 0 { body = slice } else { body.writeBuffer(&slice) }
    }

    private mutating func finish() -> FDKResponse {
        defer {
            state = .head
            headers = []
            body = ByteBuffer()
        }
        return FDKResponse(status: status, headers: headers, body: body)
    }

    /// The length of the head at the start of `input`, through its blank line, once it is all in.
    private func headLength(_ input: ByteBuffer) throws -> Int? {
        let found = input.withUnsafeReadableBytes { bytes -> Int? in
            var index = 3
            while index < bytes.count {
                if bytes[index] == 0x0A, bytes[index - 1] == 0x0D, bytes[index - 2] == 0x0A, bytes[index - 3] == 0x0D { return index + 1 }
                index += 1
            }
            return nil
        }
        if found == nil, input.readableBytes > Self.maxHeadLength { throw Invalid(description: "the function's response head is over 64 KiB") }
        return found
    }

    /// A CRLF-ended line (without its CRLF), once it is all in.
    private func readLine(_ input: inout ByteBuffer) throws -> [UInt8]? {
        guard let newline = input.readableBytesView.firstIndex(of: 0x0A) else {
            if input.readableBytes > Self.maxHeadLength { throw Invalid(description: "the function's response has a line over 64 KiB") }
            return nil
        }
        let line = input.readBytes(length: newline - input.readerIndex + 1)!
        guard line.count >= 2, line[line.count - 2] == 0x0D else { throw Invalid(description: "the function's response has a bare LF") }
        return Array(line.dropLast(2))
    }

    private mutating func readHead(_ head: ByteBuffer) throws {
        let lines = head.readableBytesView.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast(2)
        guard var statusLine = lines.first, statusLine.last == 0x0D else { throw Invalid(description: "the function's response has no status line") }
        statusLine = statusLine.dropLast()
        // HTTP/1.x SP 3DIGIT [SP reason]
        guard statusLine.count >= 12, statusLine.starts(with: "HTTP/1.".utf8), statusLine.dropFirst(8).first == 0x20,
              case let code = statusLine.dropFirst(9).prefix(3), code.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              statusLine.count == 12 || statusLine.dropFirst(12).first == 0x20 else {
            throw Invalid(description: "the function's response has an invalid status line: \(String(decoding: statusLine.prefix(80), as: UTF8.self))")
        }
        status = code.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        var contentLength: Int?, chunked = false
        headers = []
        for var line in lines.dropFirst() {
            guard line.last == 0x0D else { throw Invalid(description: "the function's response has a bare LF") }
            line = line.dropLast()
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                  line.first != 0x20, line.first != 0x09 else {
                throw Invalid(description: "the function's response has an invalid header line: \(String(decoding: line.prefix(80), as: UTF8.self))")
            }
            let name = line[..<colon]
            var value = line[(colon + 1)...]
            while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
            while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
            if name.count > 10, equalIgnoringCase(name.prefix(10), "fn-http-h-") || (name.count == 14 && equalIgnoringCase(name, "fn-http-status"))
                || (name.count == 12 && equalIgnoringCase(name, "content-type")) {
                headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
            } else if name.count == 14, equalIgnoringCase(name, "content-length") {
                guard !value.isEmpty, value.count <= 15, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                      case let length = value.reduce(0, { $0 * 10 + Int($1 - 0x30) }), contentLength == nil || contentLength == length else {
                    throw Invalid(description: "the function's response has an invalid Content-Length")
                }
                contentLength = length
            } else if name.count == 17, equalIgnoringCase(name, "transfer-encoding") {
                // RFC 9112: chunked, if present, is the last coding.
                let codings = value.split(separator: UInt8(ascii: ",")).map { $0.filter { $0 != 0x20 && $0 != 0x09 } }
                guard let last = codings.last, equalIgnoringCase(last, "chunked") else {
                    throw Invalid(description: "the function's response has a transfer coding other than chunked")
                }
                chunked = true
            }
        }
        if (100...199).contains(status) {
            headers = []
            state = .head  // an interim response: the real one follows
        } else if status == 204 || status == 304 {
            state = .body(remaining: 0)
        } else if chunked {
            state = .chunkSize
        } else if let contentLength {
            state = .body(remaining: contentLength)
        } else {
            state = .untilClose
        }
    }
}

/// True when `bytes` spell `lowercase` (ASCII) in any case.
func equalIgnoringCase(_ bytes: some Collection<UInt8>, _ lowercase: StaticString) -> Bool {
    let expected = UnsafeRawBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
    return bytes.count == expected.count && zip(bytes, expected).allSatisfy { $0 | 0x20 == $1 || $0 == $1 }
}
