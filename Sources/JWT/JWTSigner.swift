import Crypto
import Foundation
import _CryptoExtras

/// Signs JWTs and exports the matching public JWK. For tests and tools (minting tokens for end-to-end tests);
/// the gateway itself only verifies.
public struct JWTSigner: Sendable {
    /// EC keys are kept raw: swift-crypto 3's EC key types are not `Sendable`.
    private enum Key: Sendable {
        case p256(Data)
        case p384(Data)
        case rsa(_RSA.Signing.PrivateKey)
    }

    private let key: Key
    /// The algorithm of every token this signer makes.
    public let algorithm: JWTAlgorithm
    /// The `kid` put in headers and in `publicJWK`.
    public let kid: String?
    /// The public key as a JWK (`use` `sig`, `alg` set, `kid` if any), ready for `JWTVerifier(keys:)`.
    public let publicJWK: JSONWebKey

    /// An ES256 signer.
    public init(_ key: P256.Signing.PrivateKey, kid: String? = nil) {
        let raw = key.publicKey.rawRepresentation
        self.init(key: .p256(key.rawRepresentation), algorithm: .es256, kid: kid, jwk: JSONWebKey(
            kty: "EC", crv: "P-256", x: Base64URL.encode(raw.prefix(32)), y: Base64URL.encode(raw.suffix(32))))
    }

    /// An ES384 signer.
    public init(_ key: P384.Signing.PrivateKey, kid: String? = nil) {
        let raw = key.publicKey.rawRepresentation
        self.init(key: .p384(key.rawRepresentation), algorithm: .es384, kid: kid, jwk: JSONWebKey(
            kty: "EC", crv: "P-384", x: Base64URL.encode(raw.prefix(48)), y: Base64URL.encode(raw.suffix(48))))
    }

    /// An RS256 (or RS384, RS512) signer. Throws `.unsupportedAlgorithm` for a non-RSA algorithm.
    /// Any key size is allowed, so tests can make keys the verifier refuses.
    public init(_ key: _RSA.Signing.PrivateKey, algorithm: JWTAlgorithm = .rs256, kid: String? = nil) throws(JWTError) {
        guard algorithm.keyType == "RSA" else { throw .unsupportedAlgorithm(algorithm.rawValue) }
        guard let primitives = try? key.publicKey.getKeyPrimitives() else {
            throw .invalidKey(kid: kid, index: 0, reason: "cannot read the RSA public key's modulus and exponent")
        }
        self.init(key: .rsa(key), algorithm: algorithm, kid: kid, jwk: JSONWebKey(
            kty: "RSA", n: Base64URL.encode(primitives.modulus.drop { $0 == 0 }),
            e: Base64URL.encode(primitives.publicExponent.drop { $0 == 0 })))
    }

    private init(key: Key, algorithm: JWTAlgorithm, kid: String?, jwk: JSONWebKey) {
        self.key = key
        self.algorithm = algorithm
        self.kid = kid
        var jwk = jwk
        jwk.kid = kid
        jwk.alg = algorithm.rawValue
        jwk.use = "sig"
        self.publicJWK = jwk
    }

    /// A compact JWS of `claims`. The header is `alg`, `typ: JWT` and `kid` (if any), then `header`'s fields,
    /// which override those (to forge tokens in tests). Encode dates as seconds since the epoch (`exp: 1_700_000_000`).
    public func sign(_ claims: [String: JWTClaims.Value], header: [String: JWTClaims.Value] = [:]) throws -> String {
        try sign(encodable: claims, header: header)
    }

    /// A compact JWS of any `Encodable` claims; `Date`s are written as seconds since the epoch.
    public func sign(encodable claims: some Encodable, header: [String: JWTClaims.Value] = [:]) throws -> String {
        var fields: [String: JWTClaims.Value] = ["alg": .string(algorithm.rawValue), "typ": "JWT"]
        if let kid { fields["kid"] = .string(kid) }
        fields.merge(header) { _, new in new }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .secondsSince1970
        let input = Base64URL.encode(try encoder.encode(fields)) + "." + Base64URL.encode(try encoder.encode(claims))
        return input + "." + Base64URL.encode(try signature(for: Data(input.utf8)))
    }

    /// The raw JWS signature of `input`: r||s for ES*, PKCS#1 v1.5 for RS*.
    public func signature(for input: Data) throws -> Data {
        switch (key, algorithm) {
        case let (.p256(raw), _):
            try P256.Signing.PrivateKey(rawRepresentation: raw).signature(for: SHA256.hash(data: input)).rawRepresentation
        case let (.p384(raw), _):
            try P384.Signing.PrivateKey(rawRepresentation: raw).signature(for: SHA384.hash(data: input)).rawRepresentation
        case let (.rsa(k), .rs384):
            try k.signature(for: SHA384.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
        case let (.rsa(k), .rs512):
            try k.signature(for: SHA512.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
        case let (.rsa(k), _):
            try k.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
        }
    }
}
