import Foundation

/// The claims of a verified token: the registered ones typed, every claim raw in `all`, and the header's `alg`/`kid`.
public struct JWTClaims: Sendable, Equatable {
    /// Every top-level claim, as decoded.
    public let all: [String: Value]
    /// The algorithm that verified the signature.
    public let algorithm: JWTAlgorithm
    /// The header's `kid`, if any.
    public let keyID: String?

    /// `iss`.
    public let issuer: String?
    /// `sub`.
    public let subject: String?
    /// `aud`, a single string read as a one-element list; empty if absent.
    public let audiences: [String]
    /// `exp`.
    public let expiresAt: Date
    /// `nbf`.
    public let notBefore: Date?
    /// `iat`.
    public let issuedAt: Date?
    /// `jti`.
    public let jwtID: String?
    /// The union of `scope` (space-separated string) and `scp` (array of strings, or space-separated string).
    public let scopes: Set<String>

    /// The claim named `name`.
    public subscript(name: String) -> Value? { all[name] }

    /// Every top-level claim that is a string, number or bool, as text (numbers as JSON writes them, bools as
    /// `true`/`false`); arrays, objects and nulls are left out.
    public var strings: [String: String] { all.compactMapValues(\.text) }

    /// Reads and type-checks the registered claims of a decoded payload. `exp` is required.
    init(payload: [String: Value], algorithm: JWTAlgorithm, keyID: String?) throws(JWTError) {
        all = payload
        self.algorithm = algorithm
        self.keyID = keyID
        issuer = try Self.string("iss", in: payload)
        subject = try Self.string("sub", in: payload)
        jwtID = try Self.string("jti", in: payload)
        audiences = try Self.strings("aud", in: payload)
        guard let exp = try Self.date("exp", in: payload) else { throw .missingClaim("exp") }
        expiresAt = exp
        notBefore = try Self.date("nbf", in: payload)
        issuedAt = try Self.date("iat", in: payload)
        scopes = Set(try Self.strings("scope", in: payload) + Self.strings("scp", in: payload))
    }

    private static func string(_ name: String, in payload: [String: Value]) throws(JWTError) -> String? {
        switch payload[name] {
        case nil: return nil
        case let .string(s)?: return s
        case _?: throw .invalidClaim(name, reason: "not a string")
        }
    }

    /// A string or an array of strings; strings are split on spaces except for `aud`.
    private static func strings(_ name: String, in payload: [String: Value]) throws(JWTError) -> [String] {
        let split: (String) -> [String] = name == "aud" ? { [$0] } : { $0.split(separator: " ").map(String.init) }
        switch payload[name] {
        case nil:
            return []
        case let .string(s)?:
            return split(s)
        case let .array(values)?:
            var result: [String] = []
            for value in values {
                guard case let .string(s) = value else {
                    throw .invalidClaim(name, reason: "not a string or an array of strings")
                }
                result += split(s)
            }
            return result
        case _?:
            throw .invalidClaim(name, reason: "not a string or an array of strings")
        }
    }

    /// A NumericDate: seconds since the epoch, integer or decimal.
    private static func date(_ name: String, in payload: [String: Value]) throws(JWTError) -> Date? {
        guard let value = payload[name] else { return nil }
        guard let seconds = value.doubleValue else { throw .invalidClaim(name, reason: "not a number") }
        guard seconds.isFinite else { throw .invalidClaim(name, reason: "not a finite number") }
        return Date(timeIntervalSince1970: seconds)
    }
}
