import Crypto
import Foundation
import JWT
import Testing
import _CryptoExtras

@Suite struct JSONWebKeys {
    static let rsa1024 = try! JWTSigner(_RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024)), kid: "small")

    @Test func decodesRFC7517MembersAndOCISpelling() throws {
        let json = #"""
        [{"kty":"EC","kid":"a","use":"sig","alg":"ES256","key_ops":["verify"],"crv":"P-256","x":"eA","y":"eQ"},
         {"format":"JSON_WEB_KEY","kty":"RSA","kid":"b","keyOps":["verify"],"n":"bg","e":"AQAB","x5c":["..."]}]
        """#
        let keys = try JSONDecoder().decode([JSONWebKey].self, from: Data(json.utf8))
        #expect(keys[0] == JSONWebKey(kty: "EC", kid: "a", alg: "ES256", use: "sig", keyOps: ["verify"], crv: "P-256", x: "eA", y: "eQ"))
        #expect(keys[1] == JSONWebKey(kty: "RSA", kid: "b", keyOps: ["verify"], n: "bg", e: "AQAB"))
    }

    @Test("an exported public JWK survives JSON and verifies the signer's tokens", arguments: [
        Fixtures.es256, Fixtures.es384, Fixtures.rs256, Fixtures.rs512,
    ])
    func exportRoundTrip(signer: JWTSigner) throws {
        let json = try JSONEncoder().encode(signer.publicJWK)
        let jwk = try JSONDecoder().decode(JSONWebKey.self, from: json)
        #expect(jwk == signer.publicJWK)
        #expect(jwk.use == "sig" && jwk.alg == signer.algorithm.rawValue && jwk.kid == signer.kid)
        let claims = try JWTVerifier(keys: [jwk]).verify(try signer.sign(Fixtures.claims()), now: Fixtures.now)
        #expect(claims.subject == "alice")
    }

    @Test func exportedRSAKeyHasStandardExponent() {
        #expect(Fixtures.rs256.publicJWK.e == "AQAB")
        #expect(Base64URL.decode(Fixtures.rs256.publicJWK.n!)?.count == 256)
    }

    static let ec = Fixtures.es256.publicJWK
    static let rsa = Fixtures.rs256.publicJWK

    static func modified(_ key: JSONWebKey, _ change: (inout JSONWebKey) -> Void) -> JSONWebKey {
        var key = key
        change(&key)
        return key
    }

    /// Each bad key goes second, after a good one, so the error must name it by kid (or index 1).
    static let badKeys: [(String, JSONWebKey)] = [
        ("use enc", modified(ec) { $0.use = "enc" }),
        ("key_ops without verify", modified(ec) { $0.keyOps = ["encrypt", "sign"] }),
        ("kty oct", JSONWebKey(kty: "oct", kid: "k")),
        ("kty OKP", JSONWebKey(kty: "OKP", kid: "k", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")),
        ("alg HS256", modified(rsa) { $0.alg = "HS256" }),
        ("alg none", modified(ec) { $0.alg = "none" }),
        ("RSA key with alg ES256", modified(rsa) { $0.alg = "ES256" }),
        ("P-256 key with alg ES384", modified(ec) { $0.alg = "ES384" }),
        ("RSA 1024 bits", rsa1024.publicJWK),
        ("RSA without e", modified(rsa) { $0.e = nil }),
        ("RSA n not base64url", modified(rsa) { $0.n = "+/+/" }),
        ("RSA even exponent", modified(rsa) { $0.e = "AQAA" }),
        ("RSA empty n", modified(rsa) { $0.n = "" }),
        ("EC curve P-521", modified(ec) { $0.crv = "P-521"; $0.alg = nil }),
        ("EC without crv", modified(ec) { $0.crv = nil }),
        ("EC without y", modified(ec) { $0.y = nil }),
        ("EC x too short", modified(ec) { $0.x = "AAAA" }),
        ("EC point not on the curve", modified(ec) { $0.y = Base64URL.encode(Data(repeating: 7, count: 32)) }),
    ]

    @Test("an unusable key is refused, naming it", arguments: badKeys)
    func refused(_ name: String, key: JSONWebKey) {
        let good = Fixtures.es384.publicJWK
        #expect {
            _ = try JWTVerifier(keys: [good, key])
        } throws: { error in
            guard let error = error as? JWTError, case let .invalidKey(kid, index, reason) = error else { return false }
            let named = key.kid.map { "\"\($0)\"" } ?? "#1"
            return kid == key.kid && index == 1 && !reason.isEmpty && error.description.contains(named)
        }
    }

    @Test func duplicateKidIsRefused() {
        #expect(throws: JWTError.invalidKey(kid: "ec-256", index: 1, reason: "duplicate kid")) {
            try JWTVerifier(keys: [Self.ec, Self.modified(Fixtures.es384.publicJWK) { $0.kid = "ec-256" }])
        }
    }

    @Test func emptyKeySetIsRefused() {
        #expect(throws: JWTError.noKeys) { try JWTVerifier(keys: []) }
    }

    @Test("a key without alg verifies any algorithm of its type; padding in JWK numbers is tolerated")
    func unpinnedKey() throws {
        let jwk = Self.modified(Self.rsa) { $0.alg = nil; $0.use = nil }
        let verifier = try JWTVerifier(keys: [jwk])
        for algorithm in [JWTAlgorithm.rs256, .rs384, .rs512] {
            let signer = try JWTSigner(Fixtures.rsaKey, algorithm: algorithm, kid: "rsa-256")
            #expect(try verifier.verify(signer.sign(Fixtures.claims()), now: Fixtures.now).algorithm == algorithm)
        }
        let padded = Self.modified(Self.ec) { $0.x = $0.x! + "=" }
        _ = try JWTVerifier(keys: [padded])
    }
}
