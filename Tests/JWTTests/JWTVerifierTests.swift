import Crypto
import Foundation
import JWT
import Testing
import _CryptoExtras

@Suite struct AcceptedTokens {
    @Test("a valid token is accepted with its claims", arguments: [
        Fixtures.es256, Fixtures.es384, Fixtures.rs256, Fixtures.rs512, Fixtures.anonymous, Fixtures.es256NoKid,
    ])
    func accepted(signer: JWTSigner) throws {
        let token = try signer.sign(Fixtures.claims(["admin": true, "level": 3, "ratio": 0.5, "groups": ["a", "b"]]))
        let claims = try Fixtures.verify(token)
        #expect(claims.algorithm == signer.algorithm)
        #expect(claims.keyID == signer.kid)
        #expect(claims.subject == "alice")
        #expect(claims.issuer == Fixtures.issuer)
        #expect(claims.audiences == [Fixtures.audience])
        #expect(claims.scopes == ["read", "write"])
        #expect(claims.expiresAt == Fixtures.now.addingTimeInterval(300))
        #expect(claims.issuedAt == Fixtures.now.addingTimeInterval(-10))
        #expect(claims.notBefore == nil)
        #expect(claims.strings == [
            "iss": Fixtures.issuer, "sub": "alice", "aud": Fixtures.audience, "scope": "read write",
            "exp": "1700000300", "iat": "1699999990", "admin": "true", "level": "3", "ratio": "0.5",
        ])
        #expect(claims["groups"] == ["a", "b"])
    }

    @Test("times within the clock skew are accepted", arguments: [
        ("exp 30 s ago", Fixtures.claims(["exp": Fixtures.at(-30)])),
        ("nbf in 30 s", Fixtures.claims(["nbf": Fixtures.at(30)])),
        ("iat in 30 s", Fixtures.claims(["iat": Fixtures.at(30)])),
    ])
    func withinSkew(_ name: String, claims: [String: JWTClaims.Value]) throws {
        let token = try Fixtures.es256.sign(claims)
        #expect(throws: JWTError.self) { try Fixtures.verify(token) }
        _ = try Fixtures.verify(token, skew: 60)
    }

    @Test func decimalDatesAndNbfInThePast() throws {
        let token = try Fixtures.es256.sign(Fixtures.claims(["exp": 1_700_000_000.5, "nbf": 1_699_999_999.25]))
        let claims = try Fixtures.verify(token)
        #expect(claims.expiresAt.timeIntervalSince1970 == 1_700_000_000.5)
        #expect(claims.notBefore?.timeIntervalSince1970 == 1_699_999_999.25)
        #expect(claims.strings["exp"] == "1700000000.5")
    }

    @Test("aud may be an array that includes an accepted audience")
    func audienceArray() throws {
        let token = try Fixtures.rs256.sign(Fixtures.claims(["aud": ["api://other", .string(Fixtures.audience)]]))
        #expect(try Fixtures.verify(token).audiences == ["api://other", Fixtures.audience])
    }

    @Test("empty issuer and audience lists accept any (or none)")
    func noIssuerOrAudienceConstraint() throws {
        let token = try Fixtures.es256.sign(Fixtures.claims(removing: ["iss", "aud"]))
        let claims = try Fixtures.verifier.verify(token, now: Fixtures.now)
        #expect(claims.issuer == nil && claims.audiences.isEmpty)
    }

    static let scopeCases: [([String: JWTClaims.Value], Set<String>)] = [
        (["scope": "a  b c"], ["a", "b", "c"]),
        (["scp": ["a", "b"]], ["a", "b"]),
        (["scp": "a b"], ["a", "b"]),
        (["scope": "a", "scp": ["b"]], ["a", "b"]),
        ([:], []),
    ]

    @Test("scopes come from scope and scp", arguments: scopeCases)
    func scopes(_ scopeClaims: [String: JWTClaims.Value], expected: Set<String>) throws {
        var claims = Fixtures.claims(removing: ["scope"])
        claims.merge(scopeClaims) { _, new in new }
        #expect(try Fixtures.verify(Fixtures.es256.sign(claims)).scopes == expected)
    }

    @Test("a token signed by the wrong one of several kid-less candidates is still found")
    func kidlessTriesEveryCompatibleKey() throws {
        // Both ec-256 and the anonymous key are P-256 candidates for a kid-less ES256 token.
        _ = try Fixtures.verify(Fixtures.anonymous.sign(Fixtures.claims()))
        _ = try Fixtures.verify(Fixtures.es256NoKid.sign(Fixtures.claims()))
    }
}

/// A token that must be refused, and how.
struct Forgery: Sendable, CustomTestStringConvertible {
    let name: String
    let expected: JWTError
    var verifier: JWTVerifier = Fixtures.verifier
    var skew: TimeInterval = 0
    let make: @Sendable () throws -> String

    var testDescription: String { name }

    init(_ name: String, _ expected: JWTError, verifier: JWTVerifier = Fixtures.verifier, skew: TimeInterval = 0,
         _ make: @escaping @Sendable () throws -> String) {
        self.name = name
        self.expected = expected
        self.verifier = verifier
        self.skew = skew
        self.make = make
    }
}

private typealias F = Fixtures

@Suite struct RejectedTokens {
    static let forgeries: [Forgery] = [
        Forgery("ES256 signature byte flipped", .invalidSignature) {
            F.flippingSignatureByte(try F.es256.sign(F.claims()))
        },
        Forgery("RS256 signature byte flipped", .invalidSignature) {
            F.flippingSignatureByte(try F.rs256.sign(F.claims()), at: 200)
        },
        Forgery("payload altered to another subject", .invalidSignature) {
            let token = try F.es256.sign(F.claims())
            let forged = try F.es256.sign(F.claims(["sub": "admin"]))
            return F.replacingPart(token, 1, with: String(forged.split(separator: ".")[1]))
        },
        Forgery("signed by another key with the same kid", .invalidSignature) {
            try JWTSigner(P256.Signing.PrivateKey(), kid: "ec-256").sign(F.claims())
        },
        Forgery("alg none, no signature", .unsupportedAlgorithm("none")) {
            F.part(#"{"alg":"none"}"#) + "." + F.part(#"{"sub":"admin","exp":9999999999}"#) + "."
        },
        Forgery("alg none, signature kept", .unsupportedAlgorithm("none")) {
            F.replacingPart(try F.es256.sign(F.claims()), 0, with: F.part(#"{"alg":"none","kid":"ec-256"}"#))
        },
        Forgery("alg HS256 with the RSA public key as secret", .unsupportedAlgorithm("HS256")) {
            let input = F.part(#"{"alg":"HS256","kid":"rsa-256"}"#) + "." + F.part(#"{"sub":"admin","exp":9999999999}"#)
            let secret = SymmetricKey(data: Data(F.rsaKey.publicKey.pemRepresentation.utf8))
            let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: secret)
            return input + "." + Base64URL.encode(Data(mac))
        },
        Forgery("alg PS256", .unsupportedAlgorithm("PS256")) {
            F.replacingPart(try F.rs256.sign(F.claims()), 0, with: F.part(#"{"alg":"PS256","kid":"rsa-256"}"#))
        },
        Forgery("kid unknown", .unknownKeyID("nope")) {
            try F.es256.sign(F.claims(), header: ["kid": "nope"])
        },
        Forgery("RS256 key named by an ES256 header", .keyMismatch(kid: "rsa-256", algorithm: "ES256", reason: "")) {
            try F.es256.sign(F.claims(), header: ["kid": "rsa-256"])
        },
        Forgery("RS512-only key named by an RS256 header", .keyMismatch(kid: "rsa-512", algorithm: "RS256", reason: "")) {
            try F.rs256.sign(F.claims(), header: ["kid": "rsa-512"])
        },
        Forgery("ES256 key named by an ES384 header", .keyMismatch(kid: "ec-256", algorithm: "ES384", reason: "")) {
            try F.es384.sign(F.claims(), header: ["kid": "ec-256"])
        },
        Forgery("ES256 without kid, only RSA keys", .noKeyForAlgorithm("ES256"),
                verifier: try! JWTVerifier(keys: [F.rs256.publicJWK])) {
            try F.es256NoKid.sign(F.claims())
        },
        Forgery("expired", .expired(at: F.now.addingTimeInterval(-1), now: F.now)) {
            try F.es256.sign(F.claims(["exp": F.at(-1)]))
        },
        Forgery("expires exactly now", .expired(at: F.now, now: F.now)) {
            try F.es256.sign(F.claims(["exp": F.at(0)]))
        },
        Forgery("expired beyond the skew", .expired(at: F.now.addingTimeInterval(-61), now: F.now), skew: 60) {
            try F.es256.sign(F.claims(["exp": F.at(-61)]))
        },
        Forgery("nbf in the future", .notYetValid(notBefore: F.now.addingTimeInterval(5), now: F.now)) {
            try F.es256.sign(F.claims(["nbf": F.at(5)]))
        },
        Forgery("iat in the future beyond the skew", .issuedInFuture(issuedAt: F.now.addingTimeInterval(120), now: F.now), skew: 60) {
            try F.es256.sign(F.claims(["iat": F.at(120)]))
        },
        Forgery("no exp", .missingClaim("exp")) {
            try F.es256.sign(F.claims(removing: ["exp"]))
        },
        Forgery("exp is a string", .invalidClaim("exp", reason: "")) {
            try F.es256.sign(F.claims(["exp": "1700000300"]))
        },
        Forgery("wrong issuer", .wrongIssuer("https://evil.example")) {
            try F.es256.sign(F.claims(["iss": "https://evil.example"]))
        },
        Forgery("no issuer", .wrongIssuer(nil)) {
            try F.es256.sign(F.claims(removing: ["iss"]))
        },
        Forgery("wrong audience (string)", .wrongAudience(["api://other"])) {
            try F.es256.sign(F.claims(["aud": "api://other"]))
        },
        Forgery("wrong audience (array)", .wrongAudience(["api://a", "api://b"])) {
            try F.es256.sign(F.claims(["aud": ["api://a", "api://b"]]))
        },
        Forgery("no audience", .wrongAudience([])) {
            try F.es256.sign(F.claims(removing: ["aud"]))
        },
        Forgery("aud of the wrong type", .invalidClaim("aud", reason: "")) {
            try F.es256.sign(F.claims(["aud": 5]))
        },
        Forgery("sub of the wrong type", .invalidClaim("sub", reason: "")) {
            try F.es256.sign(F.claims(["sub": ["alice"]]))
        },
    ]

    @Test("a forged or invalid token is refused with the right error", arguments: forgeries)
    func refused(_ forgery: Forgery) throws {
        let token = try forgery.make()
        do {
            let claims = try forgery.verifier.verify(
                token, issuers: [F.issuer], audiences: [F.audience], maxClockSkew: forgery.skew, now: F.now)
            Issue.record("accepted, subject \(claims.subject ?? "nil")")
        } catch {
            #expect(error.isLike(forgery.expected), "got \(error)")
        }
    }

    static let garbageTokens: [Forgery] = [
        Forgery("empty", .malformed(.token, "")) { "" },
        Forgery("two parts", .malformed(.token, "")) { "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0" },
        Forgery("four parts", .malformed(.token, "")) { try F.es256.sign(F.claims()) + ".x" },
        Forgery("only dots", .malformed(.header, "")) { ".." },
        Forgery("header not base64url", .malformed(.header, "")) { "!!!.eyJzdWIiOiJ4In0.c2ln" },
        Forgery("header in standard base64 with padding", .malformed(.header, "")) {
            Data(#"{"alg":"ES256" }"#.utf8).base64EncodedString() + ".eyJzdWIiOiJ4In0.c2ln"
        },
        Forgery("header not JSON", .malformed(.header, "")) { F.part("not json") + ".eyJzdWIiOiJ4In0.c2ln" },
        Forgery("header a JSON array", .malformed(.header, "")) { F.part(#"["ES256"]"#) + ".eyJzdWIiOiJ4In0.c2ln" },
        Forgery("header without alg", .malformed(.header, "")) { F.part(#"{"kid":"ec-256"}"#) + ".eyJzdWIiOiJ4In0.c2ln" },
        Forgery("alg a number", .malformed(.header, "")) { F.part(#"{"alg":256}"#) + ".eyJzdWIiOiJ4In0.c2ln" },
        Forgery("kid a number", .malformed(.header, "")) { F.part(#"{"alg":"ES256","kid":1}"#) + ".eyJzdWIiOiJ4In0.c2ln" },
        Forgery("crit header", .malformed(.header, "")) {
            try F.es256.sign(F.claims(), header: ["crit": ["b64"], "b64": false])
        },
        Forgery("header nested 10,000 deep", .malformed(.header, "")) {
            F.part(#"{"alg":"ES256","x":"# + String(repeating: "[", count: 10_000) + "}") + ".eyJzdWIiOiJ4In0.c2ln"
        },
        Forgery("empty signature", .malformed(.signature, "")) { F.replacingPart(try F.es256.sign(F.claims()), 2, with: "") },
        Forgery("signature not base64url", .malformed(.signature, "")) {
            F.replacingPart(try F.es256.sign(F.claims()), 2, with: "a+b/c=")
        },
        Forgery("ES256 signature in DER instead of r||s", .malformed(.signature, "")) {
            let input = F.part(#"{"alg":"ES256","kid":"ec-256"}"#) + "." + F.part(#"{"exp":9999999999}"#)
            return input + "." + Base64URL.encode(try F.p256Key.signature(for: Data(input.utf8)).derRepresentation)
        },
        Forgery("RS256 signature truncated", .invalidSignature) {
            let token = try F.rs256.sign(F.claims())
            return String(token.dropLast(10))
        },
        Forgery("payload signed but not JSON", .malformed(.payload, "")) {
            try F.token(header: F.part(#"{"alg":"ES256","kid":"ec-256"}"#), payload: F.part("hello"), signer: F.es256)
        },
        Forgery("payload signed but empty", .malformed(.payload, "")) {
            try F.token(header: F.part(#"{"alg":"ES256","kid":"ec-256"}"#), payload: "", signer: F.es256)
        },
        Forgery("payload signed but not base64url", .malformed(.payload, "")) {
            try F.token(header: F.part(#"{"alg":"ES256","kid":"ec-256"}"#), payload: "*", signer: F.es256)
        },
        Forgery("exp 1e400", .malformed(.payload, "")) {
            try F.token(header: F.part(#"{"alg":"ES256","kid":"ec-256"}"#), payload: F.part(#"{"exp":1e400}"#), signer: F.es256)
        },
        Forgery("exp -1e300", .expired(at: Date(timeIntervalSince1970: -1e300), now: F.now)) {
            try F.token(header: F.part(#"{"alg":"ES256","kid":"ec-256"}"#), payload: F.part(#"{"exp":-1e300}"#), signer: F.es256)
        },
        Forgery("exp a 40-digit integer is far future, but the issuer is missing", .wrongIssuer(nil)) {
            try F.token(header: F.part(#"{"alg":"ES256","kid":"ec-256"}"#),
                        payload: F.part(#"{"exp":1234567890123456789012345678901234567890}"#), signer: F.es256)
        },
        Forgery("token over 64 KiB", .malformed(.token, "")) {
            try F.es256.sign(F.claims(["padding": .string(String(repeating: "x", count: 70_000))]))
        },
    ]

    @Test("garbage and hostile tokens are refused without crashing", arguments: garbageTokens)
    func garbage(_ forgery: Forgery) throws {
        try refused(forgery)
    }

    @Test func errorsDescribeWhatWasWrong() throws {
        #expect(JWTError.unsupportedAlgorithm("none").description.contains("unsigned"))
        #expect(JWTError.unsupportedAlgorithm("HS256").description.contains("HS256"))
        #expect(JWTError.unknownKeyID("nope").description.contains("\"nope\""))
        #expect(JWTError.expired(at: F.now, now: F.now).description.contains("2023-11-14T22:13:20Z"))
        #expect(JWTError.expired(at: Date(timeIntervalSince1970: -1e300), now: F.now).description.contains("-1e+300"))
        #expect(JWTError.wrongIssuer("https://evil").description.contains("https://evil"))
        #expect(JWTError.malformed(.header, "not base64url").description == "malformed token header: not base64url")
    }
}
