/// Byte-level pieces of HTTP/1.1's grammar (RFC 9110, RFC 9112) shared by
/// the request and response readers: no strings are made to look at bytes.
enum HTTP1Bytes {
    static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A, space: UInt8 = 0x20, tab: UInt8 = 0x09

    /// Where the blank line that ends a head ends (the head's length), if
    /// it is within the first `limit` bytes.
    static func headLength(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Int? {
        var index = 3
        let end = min(bytes.count, limit)
        while index < end {
            if bytes[index] == lf, bytes[index - 1] == cr, bytes[index - 2] == lf, bytes[index - 3] == cr { return index + 1 }
            index += 1
        }
        return nil
    }


    /// A field value's bytes: visible ASCII, spaces and tabs.
    static func isValueCharacter(_ byte: UInt8) -> Bool {
        (byte >= space && byte < 0x7F) || byte == tab
    }

    /// A response's field value or reason phrase: those, and obs-text (bytes from 0x80).
    static func isResponseTextCharacter(_ byte: UInt8) -> Bool {
        isValueCharacter(byte) || byte >= 0x80
    }

    /// `bytes` without the spaces and tabs around them.
    static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, bytes[start] == space || bytes[start] == tab { start += 1 }
        while end > start, bytes[end - 1] == space || bytes[end - 1] == tab { end -= 1 }
        return bytes[start..<end]
    }

    /// A decimal of at most 15 digits and nothing else, or nil.
    static func decimal(_ bytes: Slice<UnsafeRawBufferPointer>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 15 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

/// True when `bytes` spell `lowercase` (ASCII letters, digits, `-`) in any case.
@inlinable
public func equalIgnoringCase(_ bytes: some Collection<UInt8>, _ lowercase: StaticString) -> Bool {
    guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
    var expected = lowercase.utf8Start
    for byte in bytes {
        // Only letters fold: `| 0x20` maps A-Z onto a-z (and nothing else onto a letter or `-`).
        let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
        guard folded == expected.pointee else { return false }
        expected += 1
    }
    return true
}

/// The CRLF-ended lines of a head, without their CRLF; a bare LF or CR
/// inside a line stays in it (and fails the grammar there).
struct HTTP1LineReader {
    let bytes: UnsafeRawBufferPointer
    var at = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func next() -> Slice<UnsafeRawBufferPointer>? {
        var index = at
        while index + 1 < bytes.count {
            if bytes[index] == HTTP1Bytes.cr, bytes[index + 1] == HTTP1Bytes.lf {
                defer { at = index + 2 }
                return bytes[at..<index]
            }
            index += 1
        }
        return nil
    }
}

/// True when `name` is a field name (a token) and `value` can be sent as its
/// value on one line (no CR, LF or NUL): what may go into a request as is.
public func isSendableField(name: String, value: String) -> Bool {
    isFieldName(name) && isSendableFieldValue(value)
}

/// True for a field of one connection or of the message's framing, which a
/// proxy never forwards (RFC 9110 7.6.1, RFC 9112 6): `Connection`,
/// `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`, `Transfer-Encoding`,
/// `Upgrade` and `Content-Length`, in any case. On bytes, by length first:
/// every request and response of the gateway's warm path asks.
public func isConnectionField(_ name: some StringProtocol) -> Bool {
    let utf8 = name.utf8
    switch utf8.count {
    case 2: return equalIgnoringCase(utf8, "te")
    case 7: return equalIgnoringCase(utf8, "trailer") || equalIgnoringCase(utf8, "upgrade")
    case 10: return equalIgnoringCase(utf8, "connection") || equalIgnoringCase(utf8, "keep-alive")
    case 14: return equalIgnoringCase(utf8, "content-length")
    case 16: return equalIgnoringCase(utf8, "proxy-connection")
    case 17: return equalIgnoringCase(utf8, "transfer-encoding")
    default: return false
    }
}

/// A token: one or more `tchar`.
public func isFieldName(_ name: String) -> Bool {
    !name.isEmpty && (name.utf8.withContiguousStorageIfAvailable { $0.allSatisfy(isTokenCharacter) } ?? name.utf8.allSatisfy(isTokenCharacter))
}

/// No CR, LF or NUL, which would end the line or the string.
public func isSendableFieldValue(_ value: String) -> Bool {
    func sendable(_ byte: UInt8) -> Bool { byte != HTTP1Bytes.cr && byte != HTTP1Bytes.lf && byte != 0 }
    return value.utf8.withContiguousStorageIfAvailable { $0.allSatisfy(sendable) } ?? value.utf8.allSatisfy(sendable)
}

/// RFC 9110's `tchar`: the characters of a method or a field name.
public func isTokenCharacter(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
         UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
         UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
    default: false
    }
}
