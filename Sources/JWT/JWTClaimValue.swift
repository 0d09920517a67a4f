import Foundation

extension JWTClaims {
    /// A JSON value of a claim (or a header field). Integers that fit in `Int64` are `.integer`; other numbers `.number`.
    /// Literals build values: `["sub": "alice", "exp": 1_700_000_000, "aud": ["a", "b"]]`.
    public enum Value: Sendable, Hashable, Codable {
        case null
        case bool(Bool)
        case integer(Int64)
        case number(Double)
        case string(String)
        case array([Value])
        case object([String: Value])

        /// The string, if this is a string.
        public var stringValue: String? {
            if case let .string(s) = self { s } else { nil }
        }

        /// The number, if this is an integer or a number.
        public var doubleValue: Double? {
            switch self {
            case let .integer(i): Double(i)
            case let .number(d): d
            default: nil
            }
        }

        /// A string, number or bool as text (`"alice"`, `"42"`, `"1.5"`, `"true"`); nil for null, arrays and objects.
        public var text: String? {
            switch self {
            case let .string(s): s
            case let .integer(i): String(i)
            case let .number(d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
            case let .bool(b): b ? "true" : "false"
            case .null, .array, .object: nil
            }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() {
                self = .null
            } else if let b = try? c.decode(Bool.self) {
                self = .bool(b)
            } else if let i = try? c.decode(Int64.self) {
                self = .integer(i)
            } else if let d = try? c.decode(Double.self) {
                self = .number(d)
            } else if let s = try? c.decode(String.self) {
                self = .string(s)
            } else if let a = try? c.decode([Value].self) {
                self = .array(a)
            } else {
                self = .object(try c.decode([String: Value].self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .null: try c.encodeNil()
            case let .bool(b): try c.encode(b)
            case let .integer(i): try c.encode(i)
            case let .number(d): try c.encode(d)
            case let .string(s): try c.encode(s)
            case let .array(a): try c.encode(a)
            case let .object(o): try c.encode(o)
            }
        }

        /// Maximum nesting of arrays and objects accepted when decoding a token part.
        static let maximumDepth = 32

        /// Decodes a JSON object, or throws `.malformed(part, why)`. Refuses deep nesting before decoding,
        /// so hostile input cannot exhaust the stack.
        static func decodeObject(_ data: Data, part: JWTError.Part) throws(JWTError) -> [String: Value] {
            var depth = 0
            var inString = false
            var escaped = false
            for byte in data {
                if inString {
                    if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    if depth > maximumDepth { throw .malformed(part, "JSON nested deeper than \(maximumDepth) levels") }
                case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
                default: break
                }
            }
            guard let value = try? JSONDecoder().decode(Value.self, from: data) else {
                throw .malformed(part, "not valid JSON")
            }
            guard case let .object(object) = value else { throw .malformed(part, "not a JSON object") }
            return object
        }
    }
}

extension JWTClaims.Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JWTClaims.Value...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JWTClaims.Value)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}
