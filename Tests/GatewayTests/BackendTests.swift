import Foundation
import Gateway
import HTTPTypes
import Testing

@Suite("Backends")
struct BackendTests {
    @Test("a stock response answers its status, body and headers")
    func stockResponse() async throws {
        let gateway = try await makeGateway("""
        {"routes": [{"path": "/teapot", "methods": ["GET"], "backend": {"type": "STOCK_RESPONSE_BACKEND", "status": 418,
          "body": "short and stout", "headers": [{"name": "Content-Type", "value": "text/plain"}, {"name": "X-Brew", "value": "earl grey"}]}}]}
        """)
        let response = try await gateway.send(request(.get, "/api/teapot"))
        #expect(response.status.code == 418)
        #expect(response.text == "short and stout")
        #expect(response.header("Content-Type") == "text/plain")
        #expect(response.header("X-Brew") == "earl grey")
    }

    private func httpSpec(port: Int, extra: String = "") -> String {
        """
        {"routes": [
          {"path": "/users/{id}", "methods": ["GET", "POST", "HEAD"], "backend": {"type": "HTTP_BACKEND", "url": "http://127.0.0.1:\(port)/echo/${request.path[id]}?from=gw"}},
          {"path": "/proxy/{rest*}", "backend": {"type": "HTTP_BACKEND", "url": "http://127.0.0.1:\(port)/${request.path[rest]}"}},
          {"path": "/slow", "backend": {"type": "HTTP_BACKEND", "url": "http://127.0.0.1:\(port)/slow", "readTimeoutInSeconds": 0.5}},
          {"path": "/refused", "backend": {"type": "HTTP_BACKEND", "url": "http://127.0.0.1:\(extra)/", "connectTimeoutInSeconds": 2}}
        ]}
        """
    }

    @Test("the HTTP backend forwards method, path parameters, query, headers and body")
    func httpBackendForwards() async throws {
        let server = try await PythonHTTPServer.shared.value
        let gateway = try await makeGateway(httpSpec(port: server.port, extra: "1"))
        var headers: HTTPFields = [.contentType: "text/plain", .connection: "keep-alive, X-Secret"]
        headers[HTTPField.Name("X-Test")!] = "yes"
        headers[HTTPField.Name("X-Secret")!] = "hop-by-hop"
        let response = try await gateway.send(request(.post, "/api/users/a%20b?q=1", headers: headers, body: "hello", client: "127.0.0.9"))
        #expect(response.status == .ok)
        #expect(response.header("X-Backend") == "python")
        #expect(response.header("Keep-Alive") == nil)
        let seen = response.json
        #expect(seen["method"] as? String == "POST")
        #expect(seen["path"] as? String == "/echo/a%20b?from=gw&q=1")
        #expect(seen["body"] as? String == "hello")
        let received = seen["headers"] as? [String: String] ?? [:]
        #expect(received["x-test"] == "yes")
        #expect(received["x-secret"] == nil)
        #expect(received["content-type"] == "text/plain")
        #expect(received["host"] == "127.0.0.1:\(server.port)")
        #expect(received["x-forwarded-for"] == "127.0.0.9")
    }

    @Test("a wildcard route passes the rest of the path through the url template; connections are reused")
    func httpBackendWildcard() async throws {
        let server = try await PythonHTTPServer.shared.value
        let gateway = try await makeGateway(httpSpec(port: server.port, extra: "1"))
        for index in 0..<5 {
            let response = try await gateway.send(request(.get, "/api/proxy/created/\(index)/x?y=\(index)"))
            #expect(response.status == .created)
            #expect(response.json["path"] as? String == "/created/\(index)/x?y=\(index)")
        }
        let head = try await gateway.send(request(.head, "/api/users/7"))
        #expect(head.status == .ok)
        #expect(head.body.readableBytes == 0)
        #expect(try await gateway.send(request(.get, "/api/users/7")).json["method"] as? String == "GET")
    }

    @Test("path parameters cannot climb out of the url's path or add segments")
    func httpBackendPathSafety() async throws {
        let server = try await PythonHTTPServer.shared.value
        let gateway = try await makeGateway(httpSpec(port: server.port, extra: "1"))
        #expect(try await gateway.send(request(.get, "/api/proxy/a/%2E%2E/etc")).status == .badRequest)
        #expect(try await gateway.send(request(.get, "/api/users/..")).status == .badRequest)
        let slash = try await gateway.send(request(.get, "/api/users/x%2Fy"))
        #expect(slash.json["path"] as? String == "/echo/x%2Fy?from=gw")
    }

    @Test("a backend slower than readTimeoutInSeconds answers 504")
    func httpBackendTimeout() async throws {
        let server = try await PythonHTTPServer.shared.value
        let gateway = try await makeGateway(httpSpec(port: server.port, extra: "1"))
        // The backend answers after 2 s: a 504 means the gateway gave up first.
        let response = try await gateway.send(request(.get, "/api/slow"))
        #expect(response.status == .gatewayTimeout)
    }

    @Test("a refused connection answers 502")
    func httpBackendRefused() async throws {
        let gateway = try await makeGateway(httpSpec(port: 1, extra: String(try closedPort())))
        let response = try await gateway.send(request(.get, "/api/refused"))
        #expect(response.status == .badGateway)
        #expect(response.json["message"] as? String ?? "" != "")
    }

    static let dynamicSpec = """
    {"routes": [{"path": "/pick", "backend": {"type": "DYNAMIC_ROUTING_BACKEND",
      "selectionSource": {"type": "SINGLE", "selector": "request.headers[X-Version]"},
      "routingBackends": [
        {"key": {"type": "WILDCARD", "expression": "v*", "name": "anything-v"}, "backend": {"type": "TEST_ECHO", "name": "wildcard-v"}},
        {"key": {"type": "ANY_OF", "values": ["v1", "one"], "name": "first"}, "backend": {"type": "TEST_ECHO", "name": "v1"}},
        {"key": {"type": "WILDCARD", "expression": "beta-*-x", "name": "beta"}, "backend": {"type": "TEST_ECHO", "name": "beta"}},
        {"key": {"type": "ANY_OF", "values": ["zzz"], "name": "fallback", "isDefault": true}, "backend": {"type": "TEST_ECHO", "name": "default"}}
      ]}},
     {"path": "/strict/{tenant}", "backend": {"type": "DYNAMIC_ROUTING_BACKEND",
      "selectionSource": {"type": "SINGLE", "selector": "request.path[tenant]"},
      "routingBackends": [{"key": {"type": "ANY_OF", "values": ["acme"], "name": "acme"}, "backend": {"type": "TEST_ECHO", "name": "acme"}}]}}
    ]}
    """

    @Test(arguments: [
        ("v1", "v1"), ("one", "v1"), ("v2", "wildcard-v"), ("beta-7-x", "beta"), ("beta-7-y", "default"), ("zzz", "default"), (nil, "default"),
    ] as [(String?, String)])
    func dynamicRouting(version: String?, backend: String) async throws {
        let gateway = try await makeGateway(Self.dynamicSpec)
        var headers = HTTPFields()
        if let version { headers[HTTPField.Name("X-Version")!] = version }
        let echo = try #require(try await gateway.send(request(.get, "/api/pick", headers: headers)).echo)
        #expect(echo.name == backend)
    }

    @Test("dynamic routing without a match or a default answers 404")
    func dynamicRoutingNoMatch() async throws {
        let gateway = try await makeGateway(Self.dynamicSpec)
        #expect(try await gateway.send(request(.get, "/api/strict/acme")).echo?.name == "acme")
        #expect(try await gateway.send(request(.get, "/api/strict/globex")).status == .notFound)
    }
}
