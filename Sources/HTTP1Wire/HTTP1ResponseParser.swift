import NIOCore

/// An HTTP/1.x response as read: its status, every header in order, its body.
public struct HTTP1Response: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: ByteBuffer
}

/// Reads HTTP/1.x responses from a connection's bytes, one after another:
/// the status line, the headers, and the body framed by `Content-Length`,
/// by chunks, or by the connection's end. Interim (1xx) responses are
/// skipped. Anything outside the grammar, a head over 64 KiB or a body over
/// `maxBodyLength` is an error: the connection cannot be trusted with
/// another request.
public struct HTTP1ResponseParser {
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    private enum State {
        case head
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers(read: Int)
        case untilClose
    }

    private var state = State.head
    private var buffer: ByteBuffer?
    private var status = 0
    private var headers: [(String, String)] = []
    private var body = ByteBuffer()
    /// The largest body taken.
    public let maxBodyLength: Int

    /// Heads, chunk-size lines and trailers longer than this are refused.
    public static let maxHeadLength = 64 << 10

    public init(maxBodyLength: Int = 64 << 20) {
        self.maxBodyLength = maxBodyLength
    }

    /// Takes bytes read; returns a response once one is whole. Bytes after
    /// it are kept: call again (with an empty buffer) for the next.
    public mutating func feed(_ bytes: inout ByteBuffer) throws(Invalid) -> HTTP1Response? {
        if buffer == nil { buffer = bytes } else { buffer!.writeBuffer(&bytes) }
        bytes = ByteBuffer()
        defer { if buffer?.readableBytes == 0 { buffer = nil } }
        while var input = buffer {
            buffer = nil  // so that `input` is the only reference while it is read
            defer { buffer = input }
            switch state {
            case .head:
                guard let length = try headLength(input) else { return nil }
                try readHead(input.readSlice(length: length)!)
            case .body(let remaining):
                let slice = input.readSlice(length: min(remaining, input.readableBytes))!
                try append(slice)
                if remaining > slice.readableBytes { state = .body(remaining: remaining - slice.readableBytes); return nil }
                return finish()
            case .chunkSize:
                guard let line = try readLine(&input) else { return nil }
                state = try chunkSize(line)
            case .chunkData(let remaining):
                guard input.readableBytes > 0 else { return nil }
                let slice = input.readSlice(length: min(remaining, input.readableBytes))!
                try append(slice)
                state = remaining > slice.readableBytes ? .chunkData(remaining: remaining - slice.readableBytes) : .chunkEnd
            case .chunkEnd:
                guard let line = try readLine(&input) else { return nil }
                guard line.readableBytes == 0 else { throw Invalid(description: "a chunk is longer than its size") }
                state = .chunkSize
            case .trailers(let read):
                guard let line = try readLine(&input) else { return nil }
                if line.readableBytes == 0 { return finish() }
                guard read + line.readableBytes < Self.maxHeadLength else { throw Invalid(description: "the trailers are over 64 KiB") }
                state = .trailers(read: read + line.readableBytes + 2)
            case .untilClose:
                try append(input.readSlice(length: input.readableBytes)!)
                return nil
            }
        }
        return nil
    }

    /// The connection ended: a body read to its end is whole then; any
    /// other response in progress was cut off (nil).
    public mutating func end() -> HTTP1Response? {
        guard case .untilClose = state else { return nil }
        return finish()
    }

    private mutating func append(_ slice: ByteBuffer) throws(Invalid) {
        guard body.readableBytes + slice.readableBytes <= maxBodyLength else { throw Invalid(description: "the body is over \(maxBodyLength) bytes") }
        var slice = slice
        if body.readableBytes == 0 { body = slice } else { body.writeBuffer(&slice) }
    }

    private mutating func finish() -> HTTP1Response {
        defer {
            state = .head
            headers = []
            body = ByteBuffer()
        }
        return HTTP1Response(status: status, headers: headers, body: body)
    }

    private func headLength(_ input: ByteBuffer) throws(Invalid) -> Int? {
        let found = input.withUnsafeReadableBytes { HTTP1Bytes.headLength($0, limit: Self.maxHeadLength) }
        if found == nil, input.readableBytes >= Self.maxHeadLength { throw Invalid(description: "the head is over 64 KiB") }
        return found
    }

    /// A CRLF-ended line (without its CRLF), once it is all in.
    private func readLine(_ input: inout ByteBuffer) throws(Invalid) -> ByteBuffer? {
        guard let newline = input.readableBytesView.firstIndex(of: HTTP1Bytes.lf) else {
            if input.readableBytes >= Self.maxHeadLength { throw Invalid(description: "a line is over 64 KiB") }
            return nil
        }
        var line = input.readSlice(length: newline - input.readerIndex + 1)!
        guard line.readableBytes >= 2, line.getInteger(at: line.writerIndex - 2, as: UInt8.self) == HTTP1Bytes.cr else {
            throw Invalid(description: "a line ends with a bare LF")
        }
        line.moveWriterIndex(to: line.writerIndex - 2)
        return line
    }

    /// `chunk-size [; chunk-ext]`: the next state.
    private func chunkSize(_ line: ByteBuffer) throws(Invalid) -> State {
        let size = line.withUnsafeReadableBytes { bytes -> Int? in
            let digits = HTTP1Bytes.trimmed(bytes[..<(bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.count)])
            guard !digits.isEmpty, digits.count <= 15 else { return nil }
            var value = 0
            for byte in digits {
                guard let digit = hexDigit(byte) else { return nil }
                value = value << 4 | digit
            }
            return value
        }
        guard let size else { throw Invalid(description: "a chunk size is not a hexadecimal number") }
        return size == 0 ? .trailers(read: 0) : .chunkData(remaining: size)
    }

    private func hexDigit(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private mutating func readHead(_ head: ByteBuffer) throws(Invalid) {
        var contentLength: Int?, chunked = false
        headers = []
        headers.reserveCapacity(8)
        let problem: String? = head.withUnsafeReadableBytes { bytes in
            var lines = HTTP1LineReader(UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - 2)]))
            // HTTP/1.x SP 3DIGIT [SP reason]
            guard let line = lines.next(), line.count >= 12, line.starts(with: "HTTP/1.".utf8),
                  HTTP1Bytes.decimal(line[(line.startIndex + 7)..<(line.startIndex + 8)]) != nil, line[line.startIndex + 8] == HTTP1Bytes.space, line.count == 12 || line[line.startIndex + 12] == HTTP1Bytes.space,
                  let code = HTTP1Bytes.decimal(line[(line.startIndex + 9)..<(line.startIndex + 12)]),
                  line[(line.startIndex + 12)...].allSatisfy(HTTP1Bytes.isResponseTextCharacter) else {
                return "the status line is not HTTP/1.x's"
            }
            status = code
            while let line = lines.next() {
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                      line[line.startIndex..<colon].allSatisfy(isTokenCharacter) else {
                    return "a header line is invalid: \(String(decoding: line.prefix(80), as: UTF8.self))"
                }
                let name = line[line.startIndex..<colon]
                let value = HTTP1Bytes.trimmed(line[(colon + 1)...])
                // Visible characters, spaces, tabs and obs-text: no CR, LF or other control.
                guard value.allSatisfy(HTTP1Bytes.isResponseTextCharacter) else {
                    return "a header value has a control character: \(String(decoding: name, as: UTF8.self))"
                }
                if name.count == 14, equalIgnoringCase(name, "content-length") {
                    guard let length = HTTP1Bytes.decimal(value), contentLength == nil || contentLength == length else {
                        return "Content-Length is invalid or given twice"
                    }
                    contentLength = length
                } else if name.count == 17, equalIgnoringCase(name, "transfer-encoding") {
                    // RFC 9112: chunked, when present, is the last coding; no other is read here.
                    guard equalIgnoringCase(value, "chunked") else { return "a transfer coding other than chunked" }
                    chunked = true
                }
                headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
            }
            return nil
        }
        if let problem { throw Invalid(description: problem) }
        if (100...199).contains(status) {
            headers = []
            state = .head  // an interim response: the real one follows
        } else if status == 204 || status == 304 {
            state = .body(remaining: 0)
        } else if chunked {
            state = .chunkSize
        } else if let contentLength {
            guard contentLength <= maxBodyLength else { throw Invalid(description: "the body (Content-Length \(contentLength)) is over \(maxBodyLength) bytes") }
            state = .body(remaining: contentLength)
        } else {
            state = .untilClose
        }
    }
}
