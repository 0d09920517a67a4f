import Foundation

/// Why a key set was refused or a token was not accepted. `description` is a sentence fit for a log line
/// or a 401 response's reason; it never contains the token itself.
public enum JWTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A part of a compact JWS.
    public enum Part: String, Sendable {
        case token, header, payload, signature
    }

    /// The token (or one of its parts) is not a well-formed compact JWS: wrong number of parts,
    /// invalid base64url, not a JSON object, a header field of the wrong type, a wrong-sized signature.
    case malformed(Part, String)
    /// The header's `alg` is `none`, an HMAC algorithm, or anything else not supported.
    case unsupportedAlgorithm(String)
    /// The header names a `kid` that no configured key has.
    case unknownKeyID(String)
    /// The key the header's `kid` selects cannot verify the header's `alg`.
    case keyMismatch(kid: String, algorithm: String, reason: String)
    /// The header has no `kid` and no configured key can verify its `alg`.
    case noKeyForAlgorithm(String)
    /// No candidate key verifies the signature.
    case invalidSignature
    /// A required claim (`exp`) is absent.
    case missingClaim(String)
    /// A registered claim has the wrong JSON type or an unusable value.
    case invalidClaim(String, reason: String)
    /// `exp` is past, even allowing for the clock skew.
    case expired(at: Date, now: Date)
    /// `nbf` is in the future, even allowing for the clock skew.
    case notYetValid(notBefore: Date, now: Date)
    /// `iat` is in the future, even allowing for the clock skew.
    case issuedInFuture(issuedAt: Date, now: Date)
    /// `iss` is absent (nil) or not one of the accepted issuers.
    case wrongIssuer(String?)
    /// No value of `aud` (listed; empty if absent) is one of the accepted audiences.
    case wrongAudience([String])
    /// A configured JSON Web Key is unusable; `index` is its position in the key list.
    case invalidKey(kid: String?, index: Int, reason: String)
    /// The key list is empty.
    case noKeys

    public var description: String {
        switch self {
        case let .malformed(part, reason):
            return "malformed token \(part.rawValue): \(reason)"
        case let .unsupportedAlgorithm(alg):
            if alg.lowercased() == "none" {
                return "unsigned tokens (alg \"\(alg)\") are not accepted"
            }
            return "unsupported algorithm \"\(alg)\" (accepted: \(JWTAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .unknownKeyID(kid):
            return "no key with kid \"\(kid)\""
        case let .keyMismatch(kid, alg, reason):
            return "key \"\(kid)\" cannot verify \(alg): \(reason)"
        case let .noKeyForAlgorithm(alg):
            return "no configured key can verify \(alg)"
        case .invalidSignature:
            return "invalid signature"
        case let .missingClaim(name):
            return "missing required claim \"\(name)\""
        case let .invalidClaim(name, reason):
            return "invalid claim \"\(name)\": \(reason)"
        case let .expired(at, now):
            return "token expired at \(Self.format(at)) (now \(Self.format(now)))"
        case let .notYetValid(notBefore, now):
            return "token not valid before \(Self.format(notBefore)) (now \(Self.format(now)))"
        case let .issuedInFuture(issuedAt, now):
            return "token issued in the future at \(Self.format(issuedAt)) (now \(Self.format(now)))"
        case let .wrongIssuer(iss):
            return iss.map { "issuer \"\($0)\" is not accepted" } ?? "token has no issuer (iss)"
        case let .wrongAudience(aud):
            return aud.isEmpty
                ? "token has no audience (aud)"
                : "audience \(aud.map { "\"\($0)\"" }.joined(separator: ", ")) is not accepted"
        case let .invalidKey(kid, index, reason):
            return "invalid key \(kid.map { "\"\($0)\"" } ?? "#\(index)"): \(reason)"
        case .noKeys:
            return "no keys configured"
        }
    }

    /// ISO 8601 in UTC for dates in years 0001...9999; the raw NumericDate otherwise (hostile `exp`s).
    private static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        guard seconds.isFinite, seconds >= -62_135_596_800, seconds <= 253_402_300_799 else {
            return "\(seconds)"
        }
        return date.formatted(.iso8601)
    }
}
