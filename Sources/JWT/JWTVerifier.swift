import Foundation

/// Verifies compact JWS tokens (RS256/384/512, ES256/384) against a static set of public JSON Web Keys,
/// then checks `exp` (required), `nbf`, `iat`, `iss` and `aud`.
public struct JWTVerifier: Sendable {
    /// Longer tokens are refused unread.
    public static let maximumTokenLength = 65_536

    private let keys: [VerificationKey]

    /// Checks every key: `kty` RSA (at least 2048 bits) or EC (P-256, P-384), `use` absent or `sig`, `key_ops`
    /// absent or including `verify`, `alg` (if set) supported and fitting the key, `kid`s unique.
    /// Throws `JWTError.invalidKey` naming the first bad key, or `.noKeys` for an empty list.
    public init(keys: [JSONWebKey]) throws(JWTError) {
        guard !keys.isEmpty else { throw .noKeys }
        var seen: Set<String> = []
        var checked: [VerificationKey] = []
        for (index, jwk) in keys.enumerated() {
            if let kid = jwk.kid, !seen.insert(kid).inserted {
                throw .invalidKey(kid: kid, index: index, reason: "duplicate kid")
            }
            checked.append(try VerificationKey(jwk, index: index))
        }
        self.keys = checked
    }

    /// Verifies `token` and returns its claims.
    ///
    /// With a header `kid`, only the key with that `kid` is tried; without, every key that can verify the header's `alg`.
    /// - Parameters:
    ///   - issuers: accepted `iss` values; empty accepts any (or none).
    ///   - audiences: accepted `aud` values, one of which `aud` must contain; empty accepts any (or none).
    ///   - maxClockSkew: seconds of tolerance for `exp`, `nbf` and `iat`.
    ///   - now: the current time.
    public func verify(
        _ token: some StringProtocol, issuers: [String] = [], audiences: [String] = [],
        maxClockSkew: TimeInterval = 0, now: Date = Date()
    ) throws(JWTError) -> JWTClaims {
        let bytes = Array(token.utf8)
        guard !bytes.isEmpty else { throw .malformed(.token, "empty") }
        guard bytes.count <= Self.maximumTokenLength else {
            throw .malformed(.token, "longer than \(Self.maximumTokenLength) bytes")
        }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw .malformed(.token, "\(parts.count) part\(parts.count == 1 ? "" : "s") separated by \".\"; a compact JWS has 3")
        }

        // Header: alg, kid.
        let header = try Self.object(parts[0], part: .header)
        guard let algValue = header["alg"] else { throw .malformed(.header, "no alg") }
        guard case let .string(algName) = algValue else { throw .malformed(.header, "alg is not a string") }
        guard let algorithm = JWTAlgorithm(rawValue: algName) else { throw .unsupportedAlgorithm(algName) }
        var kid: String?
        if let kidValue = header["kid"] {
            guard case let .string(s) = kidValue else { throw .malformed(.header, "kid is not a string") }
            kid = s
        }
        if header["crit"] != nil {
            throw .malformed(.header, "critical header parameters (crit) are not supported")
        }

        // Keys to try.
        let candidates: [VerificationKey]
        if let kid {
            guard let key = keys.first(where: { $0.kid == kid }) else { throw .unknownKeyID(kid) }
            if let reason = key.incompatibility(with: algorithm) {
                throw .keyMismatch(kid: kid, algorithm: algName, reason: reason)
            }
            candidates = [key]
        } else {
            candidates = keys.filter { $0.incompatibility(with: algorithm) == nil }
            guard !candidates.isEmpty else { throw .noKeyForAlgorithm(algName) }
        }

        // Signature over the ASCII of "header.payload".
        let signature = try Self.decode(parts[2], part: .signature)
        if let size = Self.ecdsaSignatureSize(algorithm), signature.count != size {
            throw .malformed(.signature, "\(algName) signatures are \(size) bytes (r||s), not \(signature.count)")
        }
        let input = Data(bytes[0 ..< parts[0].count + 1 + parts[1].count])
        guard candidates.contains(where: { $0.isValidSignature(signature, for: input, algorithm: algorithm) }) else {
            throw .invalidSignature
        }

        // Claims, only once the signature is known good.
        let claims = try JWTClaims(payload: Self.object(parts[1], part: .payload), algorithm: algorithm, keyID: kid)
        let skew = maxClockSkew.isFinite ? max(0, maxClockSkew) : 0
        let time = now.timeIntervalSince1970
        if time >= claims.expiresAt.timeIntervalSince1970 + skew {
            throw .expired(at: claims.expiresAt, now: now)
        }
        if let nbf = claims.notBefore, time < nbf.timeIntervalSince1970 - skew {
            throw .notYetValid(notBefore: nbf, now: now)
        }
        if let iat = claims.issuedAt, iat.timeIntervalSince1970 > time + skew {
            throw .issuedInFuture(issuedAt: iat, now: now)
        }
        if !issuers.isEmpty {
            guard let iss = claims.issuer, issuers.contains(iss) else { throw .wrongIssuer(claims.issuer) }
        }
        if !audiences.isEmpty {
            guard claims.audiences.contains(where: audiences.contains) else { throw .wrongAudience(claims.audiences) }
        }
        return claims
    }

    private static func ecdsaSignatureSize(_ algorithm: JWTAlgorithm) -> Int? {
        switch algorithm {
        case .es256: 64
        case .es384: 96
        case .rs256, .rs384, .rs512: nil
        }
    }

    private static func decode(_ text: ArraySlice<UInt8>, part: JWTError.Part) throws(JWTError) -> Data {
        guard !text.isEmpty else { throw .malformed(part, "empty") }
        guard let data = Base64URL.decode(String(decoding: text, as: UTF8.self)) else {
            throw .malformed(part, "not base64url")
        }
        return data
    }

    private static func object(_ text: ArraySlice<UInt8>, part: JWTError.Part) throws(JWTError) -> [String: JWTClaims.Value] {
        try JWTClaims.Value.decodeObject(decode(text, part: part), part: part)
    }
}
