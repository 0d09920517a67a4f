import HTTPTypes

/// A request head read straight from the bytes of an HTTP/1.1 connection,
/// for the gateway's connection handler. The parser is strict on purpose:
/// whatever it is not sure of (another version, `HEAD` or `CONNECT`, a
/// chunked body, `Expect`, `Upgrade`, a repeated `Host` or `Content-Length`,
/// a folded line, a byte outside RFC 9110's grammar) is `.unsupported`, and
/// the connection goes on to a general HTTP/1 server (NIO's parser and
/// Hummingbird in fnrt), which answers it as it would any request.
///
/// The result is what NIO's parser and `HTTP1ToHTTPServerCodec` make of the
/// same bytes: the first `Host` becomes the authority and leaves the fields,
/// the target is kept as sent (split once at its first `?`).
public struct HTTP1RequestHead: Sendable {
    public var method: HTTPRequest.Method
    /// The request target's path, as sent (percent-encoded).
    public var path: String
    /// The query after the first `?`, as sent; nil when there is none.
    public var query: String?
    /// The `Host` header's value.
    public var authority: String?
    /// The header fields but `Host`, in order.
    public var fields: HTTPFields
    public var contentLength: Int
    /// True when `Connection` has the `close` option.
    public var closing: Bool
    /// The bytes of the head, through its blank line.
    public var length: Int

    public enum Parse: Sendable {
        /// No blank line yet.
        case incomplete
        /// Not for this parser: a general server takes the connection.
        case unsupported
        case head(HTTP1RequestHead)
    }

    /// Heads larger than this are left to the general server (whose limits apply).
    public static let maxLength = 16 << 10

    /// Parses the head at the start of `bytes`.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Parse {
        guard let length = HTTP1Bytes.headLength(bytes, limit: maxLength) else {
            return bytes.count >= maxLength || !couldStartRequest(bytes) ? .unsupported : .incomplete
        }
        var lines = HTTP1LineReader(UnsafeRawBufferPointer(rebasing: bytes[..<(length - 2)]))  // each line ends with CRLF

        // The request line: METHOD SP origin-form SP HTTP/1.1
        guard let line = lines.next(), let firstSpace = line.firstIndex(of: HTTP1Bytes.space),
              let method = method(line[..<firstSpace]) else { return .unsupported }
        let rest = line[(firstSpace + 1)...]
        guard let secondSpace = rest.firstIndex(of: HTTP1Bytes.space), secondSpace > rest.startIndex,
              rest[rest.startIndex] == UInt8(ascii: "/"),
              rest[rest.startIndex..<secondSpace].allSatisfy({ $0 > HTTP1Bytes.space && $0 < 0x7F }),
              rest[(secondSpace + 1)...].elementsEqual("HTTP/1.1".utf8) else { return .unsupported }
        let target = rest[rest.startIndex..<secondSpace]
        let mark = target.firstIndex(of: UInt8(ascii: "?"))
        let path = String(decoding: target[..<(mark ?? target.endIndex)], as: UTF8.self)
        let query = mark.map { String(decoding: target[($0 + 1)...], as: UTF8.self) }

        var fields = HTTPFields()
        var authority: String?
        var contentLength: Int?
        var closing = false
        while let line = lines.next() {
            // No folded lines (obs-fold), a name of token characters, a value of visible characters, spaces and tabs.
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                  line[line.startIndex..<colon].allSatisfy(isTokenCharacter) else { return .unsupported }
            let name = line[line.startIndex..<colon]
            let value = HTTP1Bytes.trimmed(line[(colon + 1)...])
            guard value.allSatisfy(HTTP1Bytes.isValueCharacter) else { return .unsupported }
            let text = String(decoding: value, as: UTF8.self)
            switch name.count {
            case 4 where equalIgnoringCase(name, "host"):
                guard authority == nil else { return .unsupported }
                authority = text
                continue
            case 14 where equalIgnoringCase(name, "content-length"):
                guard contentLength == nil, let length = HTTP1Bytes.decimal(value) else { return .unsupported }
                contentLength = length
            case 10 where equalIgnoringCase(name, "connection"):
                for option in value.split(separator: UInt8(ascii: ",")) {
                    let option = HTTP1Bytes.trimmed(option)
                    if equalIgnoringCase(option, "close") { closing = true }
                    if equalIgnoringCase(option, "upgrade") { return .unsupported }
                }
            // A general server's business: other framings, interim answers, other protocols.
            case 17 where equalIgnoringCase(name, "transfer-encoding"), 6 where equalIgnoringCase(name, "expect"),
                 7 where equalIgnoringCase(name, "upgrade"):
                return .unsupported
            default:
                break
            }
            guard let fieldName = HTTPField.Name(String(decoding: name, as: UTF8.self)) else { return .unsupported }
            fields.append(HTTPField(name: fieldName, value: text))
        }
        return .head(HTTP1RequestHead(method: method, path: path, query: query, authority: authority, fields: fields,
                                      contentLength: contentLength ?? 0, closing: closing, length: length))
    }

    /// False once the bytes so far cannot begin a request this parser
    /// reads (a bare LF, a method that is not an upper-case word, TLS...):
    /// the general server answers them at once (400) rather than waiting
    /// for a blank line that may never come.
    private static func couldStartRequest(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index < bytes.count, bytes[index] != HTTP1Bytes.space {
            guard index < 7, bytes[index] >= UInt8(ascii: "A"), bytes[index] <= UInt8(ascii: "Z") else { return false }
            index += 1
        }
        while index < bytes.count {
            if bytes[index] == HTTP1Bytes.lf, index == 0 || bytes[index - 1] != HTTP1Bytes.cr { return false }
            index += 1
        }
        return true
    }

    /// The methods served here; `HEAD` (no body in the answer) and
    /// `CONNECT` (a tunnel) go to the general server.
    private static func method(_ bytes: Slice<UnsafeRawBufferPointer>) -> HTTPRequest.Method? {
        if bytes.elementsEqual("GET".utf8) { return .get }
        if bytes.elementsEqual("POST".utf8) { return .post }
        if bytes.elementsEqual("PUT".utf8) { return .put }
        if bytes.elementsEqual("DELETE".utf8) { return .delete }
        if bytes.elementsEqual("PATCH".utf8) { return .patch }
        if bytes.elementsEqual("OPTIONS".utf8) { return .options }
        return nil
    }
}
