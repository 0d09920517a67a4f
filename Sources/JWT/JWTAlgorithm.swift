/// The JWS signature algorithms (RFC 7518 §3.1) this module verifies. `none` and HMAC are deliberately absent:
/// keys here are public, and a public key must never double as an HMAC secret.
public enum JWTAlgorithm: String, Sendable, CaseIterable, Codable {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    case rs256 = "RS256"
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    case rs384 = "RS384"
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    case rs512 = "RS512"
    /// ECDSA on P-256 with SHA-256, signature as 64-byte r||s.
    case es256 = "ES256"
    /// ECDSA on P-384 with SHA-384, signature as 96-byte r||s.
    case es384 = "ES384"

    /// The JWK `kty` a key for this algorithm has.
    public var keyType: String {
        switch self {
        case .rs256, .rs384, .rs512: "RSA"
        case .es256, .es384: "EC"
        }
    }

    /// The JWK `crv` an EC key for this algorithm has (nil for RSA).
    public var curve: String? {
        switch self {
        case .rs256, .rs384, .rs512: nil
        case .es256: "P-256"
        case .es384: "P-384"
        }
    }
}
