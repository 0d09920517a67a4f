import Crypto
import Foundation
import JWT
import _CryptoExtras

/// Keys, a verifier and token builders shared by the tests. Keys are made once per test run.
enum Fixtures {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let issuer = "https://issuer.example"
    static let audience = "api://fnrt"

    /// Raw, as swift-crypto 3's EC keys are not `Sendable`.
    static let p256Raw = P256.Signing.PrivateKey().rawRepresentation
    static var p256Key: P256.Signing.PrivateKey { try! P256.Signing.PrivateKey(rawRepresentation: p256Raw) }
    static let rsaKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    static let es256 = JWTSigner(p256Key, kid: "ec-256")
    static let es384 = JWTSigner(P384.Signing.PrivateKey(), kid: "ec-384")
    static let rs256 = try! JWTSigner(rsaKey, kid: "rsa-256")
    /// The same RSA key again, published with `alg: RS512`.
    static let rs512 = try! JWTSigner(rsaKey, algorithm: .rs512, kid: "rsa-512")
    /// A P-256 key published without a `kid`.
    static let anonymous = JWTSigner(P256.Signing.PrivateKey())
    /// The `ec-256` key, but signing without a `kid` header.
    static let es256NoKid = JWTSigner(p256Key)

    static let keys = [es256, es384, rs256, rs512, anonymous].map(\.publicJWK)
    static let verifier = try! JWTVerifier(keys: keys)

    /// Valid claims for `now`: iss, sub alice, aud, exp in 5 minutes, iat 10 s ago, scope "read write";
    /// `overrides` replace claims, and claims named in `removing` are dropped.
    static func claims(_ overrides: [String: JWTClaims.Value] = [:], removing: [String] = []) -> [String: JWTClaims.Value] {
        var claims: [String: JWTClaims.Value] = [
            "iss": .string(issuer), "sub": "alice", "aud": .string(audience),
            "exp": .integer(Int64(now.timeIntervalSince1970) + 300),
            "iat": .integer(Int64(now.timeIntervalSince1970) - 10),
            "scope": "read write",
        ]
        claims.merge(overrides) { _, new in new }
        for name in removing { claims[name] = nil }
        return claims
    }

    /// Seconds since the epoch, `offset` from `now`.
    static func at(_ offset: Int64) -> JWTClaims.Value { .integer(Int64(now.timeIntervalSince1970) + offset) }

    static func verify(_ token: String, with verifier: JWTVerifier = verifier, skew: TimeInterval = 0) throws(JWTError) -> JWTClaims {
        try verifier.verify(token, issuers: [issuer], audiences: [audience], maxClockSkew: skew, now: now)
    }

    /// base64url of a JSON text written by hand, for headers and payloads the signer would not make.
    static func part(_ json: String) -> String { Base64URL.encode(Data(json.utf8)) }

    /// `header.payload.signature`, signing `header.payload` with `signer` (whatever the header says).
    static func token(header: String, payload: String, signer: JWTSigner) throws -> String {
        let input = header + "." + payload
        return input + "." + Base64URL.encode(try signer.signature(for: Data(input.utf8)))
    }

    /// `token` with its signature's byte at `index` flipped.
    static func flippingSignatureByte(_ token: String, at index: Int = 10) -> String {
        var parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var signature = Base64URL.decode(parts[2])!
        signature[signature.startIndex + index] ^= 0x01
        parts[2] = Base64URL.encode(signature)
        return parts.joined(separator: ".")
    }

    /// `token` with part `index` replaced.
    static func replacingPart(_ token: String, _ index: Int, with text: String) -> String {
        var parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        parts[index] = text
        return parts.joined(separator: ".")
    }
}

extension JWTError {
    /// Same case and the parts a test cares about (not free-text reasons).
    func isLike(_ other: JWTError) -> Bool {
        switch (self, other) {
        case let (.malformed(a, _), .malformed(b, _)): a == b
        case let (.keyMismatch(k1, a1, _), .keyMismatch(k2, a2, _)): k1 == k2 && a1 == a2
        case let (.invalidClaim(a, _), .invalidClaim(b, _)): a == b
        case let (.invalidKey(k1, i1, _), .invalidKey(k2, i2, _)): k1 == k2 && i1 == i2
        default: self == other
        }
    }
}
