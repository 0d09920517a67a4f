import HTTPTypes

/// A request head read straight from the bytes of an HTTP/1.1 connection,
/// for the gateway's connection handler. The parser is strict on purpose:
/// whatever it is not sure of (another version, `HEAD` or `CONNECT`, a
/// chunked body, `Expect`, `Upgrade`, a repeated `Host` or `Content-Length`,
/// a folded line, a byte outside RFC 9110's grammar) is `.unsupported`, and
/// the connection goes on to the general HTTP/1 server (NIO's parser and
/// Hummingbird), which answers it as it would any request.
///
/// The result is what NIO's parser and `HTTP1ToHTTPServerCodec` make of the
/// same bytes: the first `Host` becomes the authority and leaves the fields,
/// the target is kept as sent.
struct HTTP1RequestHead {
    var method: HTTPRequest.Method
    /// The request target as sent: the path, and `?` and the query if any.
    var target: String
    /// The `Host` header's value.
    var authority: String?
    /// The header fields but `Host`, in order.
    var fields: HTTPFields
    var contentLength: Int
    /// True when `Connection` has the `close` option.
    var closing: Bool
    /// The bytes of the head, through its blank line.
    var length: Int

    enum Parse {
        /// No blank line yet.
        case incomplete
        /// Not for this parser: the general server takes the connection.
        case unsupported
        case head(HTTP1RequestHead)
    }

    /// Heads larger than this are left to the general server (whose limits apply).
    static let maxLength = 16 << 10

    /// Parses the head at the start of `bytes`.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Parse {
        guard let length = headLength(bytes) else { return bytes.count >= maxLength ? .unsupported : .incomplete }
        let head = UnsafeRawBufferPointer(rebasing: bytes[..<(length - 2)])  // each line ends with CRLF
        var lines = LineReader(bytes: head)

        // The request line: METHOD SP origin-form SP HTTP/1.1
        guard let line = lines.next(), let firstSpace = line.firstIndex(of: UInt8(ascii: " ")),
              let method = method(UnsafeRawBufferPointer(rebasing: line[..<firstSpace])) else { return .unsupported }
        let rest = line[(firstSpace + 1)...]
        guard let secondSpace = rest.firstIndex(of: UInt8(ascii: " ")), secondSpace > rest.startIndex,
              rest[rest.startIndex] == UInt8(ascii: "/"),
              rest[rest.startIndex..<secondSpace].allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
              rest[(secondSpace + 1)...].elementsEqual("HTTP/1.1".utf8) else { return .unsupported }
        let target = String(decoding: UnsafeRawBufferPointer(rebasing: rest[rest.startIndex..<secondSpace]), as: UTF8.self)

        var fields = HTTPFields()
        var authority: String?
        var contentLength: Int?
        var closing = false
        while let line = lines.next() {
            // No folded lines (obs-fold), a name of token characters, a value of visible characters, spaces and tabs.
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                  line[line.startIndex..<colon].allSatisfy(isTokenCharacter) else { return .unsupported }
            let value = trimmed(line[(colon + 1)...])
            guard value.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }) else { return .unsupported }
            let name = UnsafeRawBufferPointer(rebasing: line[line.startIndex..<colon])
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: value), as: UTF8.self)
            switch Special(name) {
            case .host:
                guard authority == nil else { return .unsupported }
                authority = text
                continue
            case .contentLength:
                guard contentLength == nil, !value.isEmpty, value.count <= 15,
                      value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return .unsupported }
                contentLength = Int(text)
            case .refused:
                return .unsupported
            case .connection:
                for option in value.split(separator: UInt8(ascii: ",")) {
                    let option = trimmed(option)
                    if equalIgnoringCase(option, "close") { closing = true }
                    if equalIgnoringCase(option, "upgrade") { return .unsupported }
                }
            case .other:
                break
            }
            guard let fieldName = HTTPField.Name(String(decoding: name, as: UTF8.self)) else { return .unsupported }
            fields.append(HTTPField(name: fieldName, value: text))
        }
        return .head(HTTP1RequestHead(method: method, target: target, authority: authority, fields: fields,
                                      contentLength: contentLength ?? 0, closing: closing, length: length))
    }

    /// Where the blank line ending the head ends, if within `maxLength`.
    private static func headLength(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 3
        let end = min(bytes.count, maxLength)
        while index < end {
            if bytes[index] == 0x0A, bytes[index - 1] == 0x0D, bytes[index - 2] == 0x0A, bytes[index - 3] == 0x0D { return index + 1 }
            index += 1
        }
        return nil
    }

    /// The methods served here; `HEAD` (no body in the answer) and
    /// `CONNECT` (a tunnel) go to the general server.
    private static func method(_ bytes: UnsafeRawBufferPointer) -> HTTPRequest.Method? {
        if bytes.elementsEqual("GET".utf8) { return .get }
        if bytes.elementsEqual("POST".utf8) { return .post }
        if bytes.elementsEqual("PUT".utf8) { return .put }
        if bytes.elementsEqual("DELETE".utf8) { return .delete }
        if bytes.elementsEqual("PATCH".utf8) { return .patch }
        if bytes.elementsEqual("OPTIONS".utf8) { return .options }
        return nil
    }

    /// Headers that change how the connection is read.
    private enum Special {
        case host, contentLength, connection, other
        /// `Transfer-Encoding`, `Expect`, `Upgrade`: the general server's business.
        case refused

        init(_ name: UnsafeRawBufferPointer) {
            switch name.count {
            case 4 where equalIgnoringCase(name, "host"): self = .host
            case 14 where equalIgnoringCase(name, "content-length"): self = .contentLength
            case 10 where equalIgnoringCase(name, "connection"): self = .connection
            case 17 where equalIgnoringCase(name, "transfer-encoding"), 6 where equalIgnoringCase(name, "expect"),
                 7 where equalIgnoringCase(name, "upgrade"): self = .refused
            default: self = .other
            }
        }
    }

    /// RFC 9110's `tchar`.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

/// `bytes` without the spaces and tabs around them.
private func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
    var bytes = bytes
    while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
    while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
    return bytes
}

/// True when `bytes` spell `lowercase` (ASCII) in any case.
private func equalIgnoringCase(_ bytes: some Collection<UInt8>, _ lowercase: StaticString) -> Bool {
    let expected = UnsafeRawBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
    return bytes.count == expected.count && zip(bytes, expected).allSatisfy { $0 | 0x20 == $1 || $0 == $1 }
}

/// The CRLF-ended lines of a head, without their CRLF; a bare LF or CR
/// inside a line stays in it (and fails the grammar there).
private struct LineReader {
    let bytes: UnsafeRawBufferPointer
    var at = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func next() -> Slice<UnsafeRawBufferPointer>? {
        var index = at
        while index + 1 < bytes.count {
            if bytes[index] == 0x0D, bytes[index + 1] == 0x0A {
                defer { at = index + 2 }
                return bytes[at..<index]
            }
            index += 1
        }
        return nil
    }
}
