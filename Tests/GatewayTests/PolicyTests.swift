import Gateway
import HTTPTypes
import Testing

@Suite("Policies")
struct PolicyTests {
    /// Rate 1 per second: a second request within the second is over the rate.
    static func rateSpec(_ key: String) -> String {
        """
        {"requestPolicies": {"rateLimiting": {"rateInRequestsPerSecond": 1, "rateKey": "\(key)"}},
         "routes": [{"path": "/a", "backend": {"type": "TEST_ECHO", "name": "a"}}]}
        """
    }

    @Test("over the rate per client IP: 429 with Retry-After, other clients unaffected")
    func rateLimitPerClient() async throws {
        let gateway = try await makeGateway(Self.rateSpec("CLIENT_IP"))
        #expect(try await gateway.send(request(.get, "/api/a", client: "127.0.0.1")).status == .ok)
        let limited = try await gateway.send(request(.get, "/api/a", client: "127.0.0.1"))
        #expect(limited.status == .tooManyRequests)
        #expect(limited.header("Retry-After") == "1")
        #expect(try await gateway.send(request(.get, "/api/a", client: "127.0.0.2")).status == .ok)
        // An IPv4-mapped IPv6 address is the same client.
        #expect(try await gateway.send(request(.get, "/api/a", client: "::ffff:127.0.0.1")).status == .tooManyRequests)
    }

    @Test("IPv6 clients are limited by their /64")
    func rateLimitIPv6Prefix() async throws {
        let gateway = try await makeGateway(Self.rateSpec("CLIENT_IP"))
        #expect(try await gateway.send(request(.get, "/api/a", client: "2001:db8:0:1::1")).status == .ok)
        #expect(try await gateway.send(request(.get, "/api/a", client: "2001:db8:0:1:ffff::2")).status == .tooManyRequests)
        #expect(try await gateway.send(request(.get, "/api/a", client: "2001:db8:0:2::1")).status == .ok)
    }

    @Test("TOTAL limits all clients together, and the bucket refills")
    func rateLimitTotal() async throws {
        let gateway = try await makeGateway(Self.rateSpec("TOTAL"))
        #expect(try await gateway.send(request(.get, "/api/a", client: "127.0.0.1")).status == .ok)
        #expect(try await gateway.send(request(.get, "/api/a", client: "127.0.0.2")).status == .tooManyRequests)
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try await gateway.send(request(.get, "/api/a", client: "127.0.0.3")).status == .ok)
    }

    static let corsSpec = """
    {"requestPolicies": {"cors": {"allowedOrigins": ["https://app.example", "http://127.0.0.1:3000"], "allowedMethods": ["GET", "PUT"],
      "allowedHeaders": ["X-Token", "Content-Type"], "exposedHeaders": ["X-Request-Id"], "isAllowCredentialsEnabled": true, "maxAgeInSeconds": 600}},
     "routes": [
       {"path": "/things/{id}", "methods": ["GET", "PUT"], "backend": {"type": "TEST_COUNT"}},
       {"path": "/open", "methods": ["GET"], "backend": {"type": "TEST_COUNT"},
        "requestPolicies": {"cors": {"allowedOrigins": ["*"], "allowedMethods": ["*"], "allowedHeaders": ["*"]}}}
     ]}
    """

    private func preflight(_ path: String, origin: String, method: String, headers: String? = nil) -> GatewayRequest {
        var fields: HTTPFields = [HTTPField.Name("Origin")!: origin, HTTPField.Name("Access-Control-Request-Method")!: method]
        if let headers { fields[HTTPField.Name("Access-Control-Request-Headers")!] = headers }
        return request(.options, path, headers: fields)
    }

    @Test("a preflight is answered by the gateway without touching the backend")
    func corsPreflight() async throws {
        let counter = CallCounter()
        let gateway = try await makeGateway(Self.corsSpec, plugins: [CountPlugin(counter: counter)])
        let allowed = try await gateway.send(preflight("/api/things/1", origin: "https://app.example", method: "PUT", headers: "x-token"))
        #expect(allowed.status == .noContent)
        #expect(allowed.header("Access-Control-Allow-Origin") == "https://app.example")
        #expect(allowed.header("Access-Control-Allow-Methods") == "GET, PUT")
        #expect(allowed.header("Access-Control-Allow-Headers") == "X-Token, Content-Type")
        #expect(allowed.header("Access-Control-Allow-Credentials") == "true")
        #expect(allowed.header("Access-Control-Max-Age") == "600")
        #expect(allowed.header("Vary")?.contains("Origin") == true)

        let otherOrigin = try await gateway.send(preflight("/api/things/1", origin: "https://evil.example", method: "PUT"))
        #expect(otherOrigin.status == .noContent)
        #expect(otherOrigin.header("Access-Control-Allow-Origin") == nil)

        let otherMethod = try await gateway.send(preflight("/api/things/1", origin: "https://app.example", method: "DELETE"))
        #expect(otherMethod.header("Access-Control-Allow-Origin") == nil)

        let anyOrigin = try await gateway.send(preflight("/api/open", origin: "https://x.example", method: "PATCH", headers: "X-Custom"))
        #expect(anyOrigin.header("Access-Control-Allow-Origin") == "*")
        #expect(anyOrigin.header("Access-Control-Allow-Methods") == "PATCH")
        #expect(anyOrigin.header("Access-Control-Allow-Headers") == "X-Custom")

        #expect(try await gateway.send(preflight("/api/unknown", origin: "https://app.example", method: "GET")).status == .notFound)
        #expect(counter.value == 0)
        // A plain OPTIONS (no preflight) is an ordinary request: no route takes it.
        #expect(try await gateway.send(request(.options, "/api/things/1")).status == .methodNotAllowed)
    }

    @Test("an actual request from an allowed origin gets Allow-Origin, Vary and Expose-Headers")
    func corsActualRequest() async throws {
        let counter = CallCounter()
        let gateway = try await makeGateway(Self.corsSpec, plugins: [CountPlugin(counter: counter)])
        let response = try await gateway.send(request(.get, "/api/things/1", headers: [HTTPField.Name("Origin")!: "http://127.0.0.1:3000"]))
        #expect(response.status == .ok)
        #expect(response.header("Access-Control-Allow-Origin") == "http://127.0.0.1:3000")
        #expect(response.header("Access-Control-Expose-Headers") == "X-Request-Id")
        #expect(response.header("Access-Control-Allow-Credentials") == "true")
        #expect(response.header("Vary") == "Origin")
        let foreign = try await gateway.send(request(.get, "/api/things/1", headers: [HTTPField.Name("Origin")!: "https://evil.example"]))
        #expect(foreign.status == .ok)
        #expect(foreign.header("Access-Control-Allow-Origin") == nil)
        #expect(counter.value == 2)
    }

    @Test(arguments: [(10, 200), (11, 413)])
    func bodyLimit(size: Int, status: Int) async throws {
        let gateway = try await makeGateway("""
        {"requestPolicies": {"bodyLimit": {"maxBytes": 10}}, "routes": [{"path": "/up", "methods": ["POST"], "backend": {"type": "TEST_ECHO"}}]}
        """)
        #expect(gateway.maxBodyBytes(forPath: "/api/up") == 10)
        let response = try await gateway.send(request(.post, "/api/up", body: String(repeating: "x", count: size)))
        #expect(response.status.code == status)
    }

    @Test("the default body limit is 6 MiB, OCI Functions' payload limit")
    func defaultBodyLimit() async throws {
        let gateway = try await makeGateway(#"{"routes": [{"path": "/up", "methods": ["POST"], "backend": {"type": "TEST_ECHO"}}]}"#)
        #expect(gateway.maxBodyBytes(forPath: "/api/up") == 6 * 1024 * 1024)
        #expect(gateway.maxBodyBytes(forPath: "/elsewhere") == nil)
        let declared = request(.post, "/api/up", headers: [.contentLength: String(6 * 1024 * 1024 + 1)])
        #expect(try await gateway.send(declared).status == .contentTooLarge)
    }

    @Test("header and query transformations shape the request, response header transformations the response")
    func transformations() async throws {
        let gateway = try await makeGateway("""
        {"routes": [{"path": "/t/{id}", "backend": {"type": "TEST_ECHO"},
          "requestPolicies": {
            "headerTransformations": {
              "filterHeaders": {"type": "BLOCK", "items": [{"name": "X-Drop"}]},
              "renameHeaders": {"items": [{"from": "X-Old", "to": "X-New"}]},
              "setHeaders": {"items": [
                {"name": "X-Id", "values": ["item-${request.path[id]}"], "ifExists": "OVERWRITE"},
                {"name": "X-Keep", "values": ["gateway"], "ifExists": "SKIP"},
                {"name": "X-List", "values": ["b"], "ifExists": "APPEND"},
                {"name": "X-From-Query", "values": ["${request.query[q]}"]}
              ]}},
            "queryParameterTransformations": {
              "filterQueryParameters": {"type": "BLOCK", "items": [{"name": "secret"}]},
              "renameQueryParameters": {"items": [{"from": "q", "to": "search"}]},
              "setQueryParameters": {"items": [{"name": "lang", "values": ["en"], "ifExists": "SKIP"}, {"name": "id", "values": ["${request.path[id]}"]}]}}},
          "responsePolicies": {"headerTransformations": {
            "setHeaders": {"items": [{"name": "X-Served-Id", "values": ["${request.path[id]}"]}]},
            "filterHeaders": {"type": "ALLOW", "items": [{"name": "X-Served-Id"}, {"name": "Content-Type"}]}}}
        }]}
        """)
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Drop")!] = "gone"
        headers[HTTPField.Name("X-Old")!] = "renamed"
        headers[HTTPField.Name("X-Id")!] = "client"
        headers[HTTPField.Name("X-Keep")!] = "client"
        headers[HTTPField.Name("X-List")!] = "a"
        let response = try await gateway.send(request(.get, "/api/t/42?q=swift&secret=s3&lang=fr", headers: headers))
        let echo = try #require(response.echo)
        #expect(echo.headers["x-drop"] == nil)
        #expect(echo.headers["x-old"] == nil)
        #expect(echo.headers["x-new"] == "renamed")
        #expect(echo.headers["x-id"] == "item-42")
        #expect(echo.headers["x-keep"] == "client")
        #expect(echo.headers["x-list"] == "a, b")
        #expect(echo.headers["x-from-query"] == "swift")
        #expect(echo.query == "search=swift&lang=fr&id=42")
        #expect(response.header("X-Served-Id") == "42")
        #expect(response.header("Content-Type") == "application/json")
    }
}

/// `TEST_COUNT`: counts the requests that reach it.
struct CountPlugin: BackendPlugin {
    let type = "TEST_COUNT"
    let counter: CallCounter

    func makeBackend(_ backend: JSONValue, path: String) async throws -> any GatewayBackend {
        CountBackend(counter: counter)
    }
}

struct CountBackend: GatewayBackend {
    let counter: CallCounter

    func respond(to request: GatewayRequest) async -> GatewayResponse {
        counter.increment()
        return GatewayResponse(status: .ok)
    }
}
