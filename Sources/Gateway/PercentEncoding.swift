/// Percent-decoding and encoding of URL parts, without Foundation's URL parser.
enum PercentEncoding {
    /// `s` with `%XX` escapes decoded (and `+` as a space when `plusIsSpace`).
    /// An invalid escape or a result that is not UTF-8 leaves `s` as it is.
    static func decode<S: StringProtocol>(_ s: S, plusIsSpace: Bool = false) -> String {
        let utf8 = s.utf8
        if !utf8.contains(UInt8(ascii: "%")) && !(plusIsSpace && utf8.contains(UInt8(ascii: "+"))) { return String(s) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                let first = utf8.index(after: index)
                guard first != utf8.endIndex else { return String(s) }
                let second = utf8.index(after: first)
                guard second != utf8.endIndex, let high = hexValue(utf8[first]), let low = hexValue(utf8[second]) else {
                    return String(s)
                }
                bytes.append(high << 4 | low)
                index = utf8.index(after: second)
                continue
            }
            bytes.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index = utf8.index(after: index)
        }
        return String(validating: bytes, as: UTF8.self) ?? String(s)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    enum Component {
        /// A path: `/` and sub-delimiters stay, `?` and `#` are escaped.
        case path
        /// One path segment: like `path`, but `/` is escaped too.
        case pathSegment
        /// A query name or value: only unreserved characters stay.
        case queryValue
    }

    static func encode(_ s: String, as component: Component) -> String {
        var needsEncoding = false
        for byte in s.utf8 where !isAllowed(byte, component) { needsEncoding = true; break }
        if !needsEncoding { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 8)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in s.utf8 {
            if isAllowed(byte, component) { out.append(byte) }
            else { out.append(UInt8(ascii: "%")); out.append(hex[Int(byte >> 4)]); out.append(hex[Int(byte & 15)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isAllowed(_ byte: UInt8, _ component: Component) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        case UInt8(ascii: "/"):
            return component == .path
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
             UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="),
             UInt8(ascii: ":"), UInt8(ascii: "@"):
            return component != .queryValue
        default:
            return false
        }
    }
}

/// A query string's parameters, in order, names and values decoded.
struct QueryParameters: Sendable {
    var items: [(name: String, value: String)]

    init(items: [(name: String, value: String)]) { self.items = items }

    /// Parses `a=1&b=2&flag` (`+` is a space, as in HTML forms).
    init(parsing query: String?) {
        items = []
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            if let equals = pair.firstIndex(of: "=") {
                items.append((PercentEncoding.decode(pair[..<equals], plusIsSpace: true),
                              PercentEncoding.decode(pair[pair.index(after: equals)...], plusIsSpace: true)))
            } else {
                items.append((PercentEncoding.decode(pair, plusIsSpace: true), ""))
            }
        }
    }

    /// The first value of `name`.
    subscript(name: String) -> String? {
        for item in items where item.name == name { return item.value }
        return nil
    }

    func contains(_ name: String) -> Bool { items.contains { $0.name == name } }

    /// The encoded query, nil when there are no parameters.
    var encoded: String? {
        guard !items.isEmpty else { return nil }
        return items.map { item in
            let name = PercentEncoding.encode(item.name, as: .queryValue)
            return item.value.isEmpty ? name : "\(name)=\(PercentEncoding.encode(item.value, as: .queryValue))"
        }.joined(separator: "&")
    }
}
