import Crypto
import Foundation
import _CryptoExtras

/// A JSON Web Key checked and turned into a swift-crypto public key.
struct VerificationKey: Sendable {
    /// EC keys are kept as their raw x||y (checked on the curve) because swift-crypto 3's EC key types
    /// are not `Sendable`; rebuilding one costs far less than the ECDSA verification itself.
    enum Material: Sendable {
        case rsa(_RSA.Signing.PublicKey)
        case p256(Data)
        case p384(Data)
    }

    let kid: String?
    /// The JWK's `alg`, when set: the only algorithm this key verifies.
    let pinned: JWTAlgorithm?
    let material: Material

    static let minimumRSABits = 2048

    init(_ jwk: JSONWebKey, index: Int) throws(JWTError) {
        func refuse(_ reason: String) -> JWTError { .invalidKey(kid: jwk.kid, index: index, reason: reason) }

        if let use = jwk.use, use != "sig" {
            throw refuse("use is \"\(use)\"; only \"sig\" keys verify signatures")
        }
        if let ops = jwk.keyOps, !ops.contains("verify") {
            throw refuse("key_ops [\(ops.joined(separator: ", "))] does not include \"verify\"")
        }
        var pinned: JWTAlgorithm?
        if let alg = jwk.alg {
            guard let algorithm = JWTAlgorithm(rawValue: alg) else {
                throw refuse("unsupported alg \"\(alg)\" (accepted: \(JWTAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard algorithm.keyType == jwk.kty else {
                throw refuse("alg \(alg) needs kty \(algorithm.keyType), not \(jwk.kty)")
            }
            pinned = algorithm
        }

        switch jwk.kty {
        case "RSA":
            guard let nText = jwk.n, let eText = jwk.e else { throw refuse("an RSA key needs n and e") }
            guard let n = Base64URL.decode(nText, allowPadding: true), !n.isEmpty else {
                throw refuse("n is not base64url")
            }
            guard let e = Base64URL.decode(eText, allowPadding: true), !e.isEmpty else {
                throw refuse("e is not base64url")
            }
            let key: _RSA.Signing.PublicKey
            do {
                key = try _RSA.Signing.PublicKey(n: n, e: e)
            } catch {
                throw refuse("n and e are not a valid RSA public key")
            }
            guard key.keySizeInBits >= Self.minimumRSABits else {
                throw refuse("RSA modulus is \(key.keySizeInBits) bits; at least \(Self.minimumRSABits) are required")
            }
            material = .rsa(key)

        case "EC":
            guard let crv = jwk.crv else { throw refuse("an EC key needs crv") }
            let size: Int
            switch crv {
            case "P-256": size = 32
            case "P-384": size = 48
            default: throw refuse("unsupported curve \"\(crv)\" (accepted: P-256, P-384)")
            }
            if let pinned, pinned.curve != crv {
                throw refuse("alg \(pinned.rawValue) needs curve \(pinned.curve ?? "?"), not \(crv)")
            }
            guard let xText = jwk.x, let yText = jwk.y else { throw refuse("an EC key needs x and y") }
            guard let x = Base64URL.decode(xText, allowPadding: true) else { throw refuse("x is not base64url") }
            guard let y = Base64URL.decode(yText, allowPadding: true) else { throw refuse("y is not base64url") }
            guard x.count == size, y.count == size else {
                throw refuse("x and y must be \(size) bytes each for \(crv), got \(x.count) and \(y.count)")
            }
            do {
                if size == 32 {
                    _ = try P256.Signing.PublicKey(rawRepresentation: x + y)
                    material = .p256(x + y)
                } else {
                    _ = try P384.Signing.PublicKey(rawRepresentation: x + y)
                    material = .p384(x + y)
                }
            } catch {
                throw refuse("(x, y) is not a point on \(crv)")
            }

        default:
            throw refuse("unsupported kty \"\(jwk.kty)\" (accepted: RSA, EC)")
        }
        self.kid = jwk.kid
        self.pinned = pinned
    }

    /// Why this key cannot verify `algorithm`, or nil if it can.
    func incompatibility(with algorithm: JWTAlgorithm) -> String? {
        switch (material, algorithm) {
        case (.rsa, .rs256), (.rsa, .rs384), (.rsa, .rs512), (.p256, .es256), (.p384, .es384):
            break
        case (.rsa, _):
            return "it is an RSA key"
        case (.p256, _):
            return "it is an EC P-256 key"
        case (.p384, _):
            return "it is an EC P-384 key"
        }
        if let pinned, pinned != algorithm {
            return "it is restricted to alg \(pinned.rawValue)"
        }
        return nil
    }

    /// Whether `signature` is this key's signature of `input` under `algorithm` (which must be compatible).
    func isValidSignature(_ signature: Data, for input: Data, algorithm: JWTAlgorithm) -> Bool {
        switch (material, algorithm) {
        case let (.rsa(key), .rs256):
            return key.isValidSignature(.init(rawRepresentation: signature), for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5)
        case let (.rsa(key), .rs384):
            return key.isValidSignature(.init(rawRepresentation: signature), for: SHA384.hash(data: input), padding: .insecurePKCS1v1_5)
        case let (.rsa(key), .rs512):
            return key.isValidSignature(.init(rawRepresentation: signature), for: SHA512.hash(data: input), padding: .insecurePKCS1v1_5)
        case let (.p256(raw), .es256):
            guard let key = try? P256.Signing.PublicKey(rawRepresentation: raw),
                  let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(ecdsa, for: SHA256.hash(data: input))
        case let (.p384(raw), .es384):
            guard let key = try? P384.Signing.PublicKey(rawRepresentation: raw),
                  let ecdsa = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(ecdsa, for: SHA384.hash(data: input))
        default:
            return false
        }
    }
}
