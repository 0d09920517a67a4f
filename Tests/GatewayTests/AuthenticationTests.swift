import Crypto
import Foundation
import Gateway
import HTTPTypes
import JWT
import Testing

/// A signing key and a deployment that trusts it.
struct JWTFixture: Sendable {
    let signer = JWTSigner(P256.Signing.PrivateKey(), kid: "k1")
    /// Same `kid`, another key: its tokens are forgeries.
    let forger = JWTSigner(P256.Signing.PrivateKey(), kid: "k1")

    var spec: String {
        var jwk = String(decoding: try! JSONEncoder().encode(signer.publicJWK), as: UTF8.self)
        jwk.removeLast()
        jwk += #", "format": "JSON_WEB_KEY"}"#
        return """
        {"requestPolicies": {"authentication": {"type": "JWT_AUTHENTICATION", "tokenHeader": "Authorization", "tokenAuthScheme": "Bearer",
           "issuers": ["https://issuer.example"], "audiences": ["fnrt-api"], "maxClockSkewInSeconds": 5, "isAnonymousAccessAllowed": true,
           "publicKeys": {"type": "STATIC_KEYS", "keys": [\(jwk)]}}},
         "routes": [
           {"path": "/me", "backend": {"type": "TEST_ECHO", "name": "me"},
            "requestPolicies": {"headerTransformations": {"setHeaders": {"items": [{"name": "X-User", "values": ["${request.auth[sub]}"]}]}}}},
           {"path": "/admin", "backend": {"type": "TEST_ECHO", "name": "admin"},
            "requestPolicies": {"authorization": {"type": "ANY_OF", "allowedScope": ["admin", "root"]}}},
           {"path": "/public", "backend": {"type": "TEST_ECHO", "name": "public"},
            "requestPolicies": {"authorization": {"type": "ANONYMOUS"}}},
           {"path": "/only", "backend": {"type": "TEST_ECHO", "name": "only"},
            "requestPolicies": {"authorization": {"type": "AUTHENTICATION_ONLY"}}}
         ]}
        """
    }

    func token(_ signer: JWTSigner? = nil, audience: String = "fnrt-api", expiresIn: TimeInterval = 600, scope: String = "read") throws -> String {
        let now = Date().timeIntervalSince1970
        return try (signer ?? self.signer).sign([
            "iss": "https://issuer.example", "aud": .string(audience), "sub": "alice", "scope": .string(scope),
            "exp": .integer(Int64(now + expiresIn)), "iat": .integer(Int64(now - 10)),
        ])
    }
}

struct TokenCase: Sendable, CustomTestStringConvertible {
    enum Token: Sendable { case valid, forged, expired, wrongAudience, missing, wrongScheme }
    var name: String
    var token: Token
    var status: Int

    var testDescription: String { name }
}

@Suite("Authentication")
struct AuthenticationTests {
    @Test(arguments: [
        TokenCase(name: "valid token", token: .valid, status: 200),
        TokenCase(name: "forged signature", token: .forged, status: 401),
        TokenCase(name: "expired", token: .expired, status: 401),
        TokenCase(name: "wrong audience", token: .wrongAudience, status: 401),
        TokenCase(name: "no token", token: .missing, status: 401),
        TokenCase(name: "another scheme", token: .wrongScheme, status: 401),
    ])
    func jwt(_ test: TokenCase) async throws {
        let fixture = JWTFixture()
        let gateway = try await makeGateway(fixture.spec)
        var headers = HTTPFields()
        switch test.token {
        case .valid: headers[.authorization] = "Bearer \(try fixture.token())"
        case .forged: headers[.authorization] = "Bearer \(try fixture.token(fixture.forger))"
        case .expired: headers[.authorization] = "Bearer \(try fixture.token(expiresIn: -60))"
        case .wrongAudience: headers[.authorization] = "Bearer \(try fixture.token(audience: "other-api"))"
        case .missing: break
        case .wrongScheme: headers[.authorization] = "Basic \(try fixture.token())"
        }
        let response = try await gateway.send(request(.get, "/api/me", headers: headers))
        #expect(response.status.code == test.status)
        if test.status == 200 {
            let echo = try #require(response.echo)
            #expect(echo.subject == "alice")
            #expect(echo.headers["x-user"] == "alice")
        } else {
            let challenge = try #require(response.header("WWW-Authenticate"))
            #expect(challenge.hasPrefix("Bearer realm=\"/api\""))
            #expect(challenge.contains("invalid_token") == (test.token != .missing && test.token != .wrongScheme))
        }
    }

    @Test(arguments: [("read", 403), ("read admin", 200), ("root", 200)])
    func anyOfScopes(scope: String, status: Int) async throws {
        let fixture = JWTFixture()
        let gateway = try await makeGateway(fixture.spec)
        let response = try await gateway.send(request(.get, "/api/admin", headers: [.authorization: "Bearer \(try fixture.token(scope: scope))"]))
        #expect(response.status.code == status)
    }

    @Test("ANONYMOUS routes let everyone in; AUTHENTICATION_ONLY is the default")
    func anonymous() async throws {
        let fixture = JWTFixture()
        let gateway = try await makeGateway(fixture.spec)
        let open = try #require(try await gateway.send(request(.get, "/api/public")).echo)
        #expect(open.subject == nil)
        let known = try await gateway.send(request(.get, "/api/public", headers: [.authorization: "Bearer \(try fixture.token())"]))
        #expect(known.echo?.subject == "alice")
        #expect(try await gateway.send(request(.get, "/api/only")).status == .unauthorized)
        #expect(try await gateway.send(request(.get, "/api/admin")).status == .unauthorized)
    }

    @Test("a token in a query parameter")
    func tokenInQuery() async throws {
        let fixture = JWTFixture()
        let spec = fixture.spec.replacingOccurrences(of: #""tokenHeader": "Authorization", "tokenAuthScheme": "Bearer""#,
                                                     with: #""tokenQueryParam": "access_token""#)
        let gateway = try await makeGateway(spec)
        #expect(try await gateway.send(request(.get, "/api/me?access_token=\(try fixture.token())")).echo?.subject == "alice")
        #expect(try await gateway.send(request(.get, "/api/me?access_token=nope")).status == .unauthorized)
    }

    // The authorizer here is `FakeFunctionPlugin`, a stand-in for the runtime's
    // ORACLE_FUNCTIONS_BACKEND plugin; the real one is tested end to end elsewhere.
    static let customSpec = """
    {"requestPolicies": {"authentication": {"type": "CUSTOM_AUTHENTICATION", "functionId": "authz", "tokenHeader": "X-Api-Key"}},
     "routes": [
       {"path": "/me", "backend": {"type": "TEST_ECHO", "name": "me"},
        "requestPolicies": {"headerTransformations": {"setHeaders": {"items": [
          {"name": "X-Tenant", "values": ["${request.auth[tenant]}"]}, {"name": "X-Level", "values": ["${request.auth[level]}"]}]}}}},
       {"path": "/writers", "backend": {"type": "TEST_ECHO", "name": "writers"},
        "requestPolicies": {"authorization": {"type": "ANY_OF", "allowedScope": ["write"]}}}
     ]}
    """

    @Test(arguments: [("good", 200), ("fresh", 200), ("bad", 401), ("crash", 502), (nil, 401)] as [(String?, Int)])
    func customAuthorizer(token: String?, status: Int) async throws {
        let calls = CallCounter()
        let gateway = try await makeGateway(Self.customSpec, plugins: [EchoPlugin(), FakeFunctionPlugin(authorizerCalls: calls)])
        var headers = HTTPFields()
        if let token { headers[HTTPField.Name("X-Api-Key")!] = token }
        let response = try await gateway.send(request(.get, "/api/me", headers: headers))
        #expect(response.status.code == status)
        switch token {
        case "good":
            let echo = try #require(response.echo)
            #expect(echo.subject == "bob")
            #expect(echo.scopes == ["read", "write"])
            #expect(echo.headers["x-tenant"] == "acme")
            #expect(echo.headers["x-level"] == "3")
        case "fresh":
            #expect(response.echo?.subject == "carol")
        case "bad":
            #expect(response.header("WWW-Authenticate") == #"Bearer realm="authz", error="invalid_token""#)
        case nil:
            #expect(calls.value == 0)
        default: break
        }
    }

    @Test("authorizer answers are cached until their expiresAt, and scopes drive ANY_OF")
    func customAuthorizerCache() async throws {
        let calls = CallCounter()
        let gateway = try await makeGateway(Self.customSpec, plugins: [EchoPlugin(), FakeFunctionPlugin(authorizerCalls: calls)])
        for _ in 0..<3 {
            #expect(try await gateway.send(request(.get, "/api/writers", headers: [HTTPField.Name("X-Api-Key")!: "good"])).status == .ok)
        }
        #expect(calls.value == 1)
        for _ in 0..<2 {
            #expect(try await gateway.send(request(.get, "/api/writers", headers: [HTTPField.Name("X-Api-Key")!: "fresh"])).status == .forbidden)
        }
        #expect(calls.value == 3)
    }

    @Test("a multi-argument authorizer gets USER_DEFINED input from its parameters")
    func customAuthorizerParameters() async throws {
        let spec = Self.customSpec.replacingOccurrences(of: #""tokenHeader": "X-Api-Key""#,
                                                        with: #""parameters": {"key": "request.query[key]"}"#)
        let gateway = try await makeGateway(spec, plugins: [EchoPlugin(), FakeFunctionPlugin()])
        #expect(try await gateway.send(request(.get, "/api/me?key=k1")).echo?.subject == "carol")
        #expect(try await gateway.send(request(.get, "/api/me?key=k2")).status == .unauthorized)
        #expect(try await gateway.send(request(.get, "/api/me")).status == .unauthorized)
    }

    @Test("the function plugin's problems with the authorizer are reported at the policy's path")
    func customAuthorizerUnknownFunction() async throws {
        let gateway = Gateway(plugins: [EchoPlugin(), FakeFunctionPlugin()])
        let spec = Self.customSpec.replacingOccurrences(of: #""functionId": "authz""#, with: #""functionId": "missing""#)
        let error = await #expect(throws: SpecValidationError.self) {
            try await gateway.deploy(deploymentJSON(spec), id: "x")
        }
        #expect(error?.problems.map(\.description) == ["specification.requestPolicies.authentication.functionId: no such function"])
    }
}
