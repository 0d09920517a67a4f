/// One page of a list, in name order (Fn's `{"items": [...], "next_cursor": "..."}`).
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    /// Pass as `cursor` to get the next page; nil on the last page.
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    public static var defaultPerPage: Int { 30 }
    public static var maxPerPage: Int { 100 }
}

extension Page: Equatable where Item: Equatable {}

extension Page: Encodable where Item: Encodable {
    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(items, forKey: .items)
        try c.encodeIfPresent(nextCursor, forKey: .nextCursor)
    }
}

/// The list cursor, as Fn makes it: the last name of the page, base64url without padding.
/// Lists resume strictly after that name, so rows inserted meanwhile neither repeat nor hide others.
/// Any string of base64url characters is accepted (it only says where to resume).
enum Cursor {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func make(after name: String) -> String {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in name.utf8 {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                output.append(alphabet[Int(buffer >> UInt32(bits) & 63)])
            }
        }
        if bits > 0 {
            output.append(alphabet[Int(buffer << UInt32(6 - bits) & 63)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The name to resume after; nil for no cursor.
    static func name(from cursor: String?) throws -> String? {
        guard let cursor, !cursor.isEmpty else { return nil }
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in cursor.utf8 {
            guard let value = alphabet.firstIndex(of: character) else {
                throw ManagementError.invalid(
                    "cursor", "Invalid cursor: use the next_cursor of a previous page (base64url characters only)")
            }
            buffer = (buffer << 6 | UInt32(value)) & 0xFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(buffer >> UInt32(bits) & 0xFF))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func clamp(perPage: Int) -> Int {
        min(max(perPage, 1), Page<Never>.maxPerPage)
    }
}
