import Gateway
import HTTPTypes
import Testing

/// Routes listed least specific first, so precedence cannot come from file order.
let routingSpec = """
{"routes": [
  {"path": "/files/{rest*}", "methods": ["GET"], "backend": {"type": "TEST_ECHO", "name": "wildcard"}},
  {"path": "/files/{name}", "methods": ["GET"], "backend": {"type": "TEST_ECHO", "name": "param"}},
  {"path": "/files/special", "methods": ["GET"], "backend": {"type": "TEST_ECHO", "name": "literal"}},
  {"path": "/users/{id}", "methods": ["DELETE"], "backend": {"type": "TEST_ECHO", "name": "delete-user"}},
  {"path": "/users/me", "methods": ["GET"], "backend": {"type": "TEST_ECHO", "name": "me"}},
  {"path": "/items/", "methods": ["POST"], "backend": {"type": "TEST_ECHO", "name": "items"}},
  {"path": "/orgs/{org}/repos/{repo}", "backend": {"type": "TEST_ECHO", "name": "repo"}},
  {"path": "/", "methods": ["GET"], "backend": {"type": "TEST_ECHO", "name": "root"}}
]}
"""

struct RouteCase: Sendable, CustomTestStringConvertible {
    var method: HTTPRequest.Method
    var target: String
    var status: Int
    /// The route that answered, or for 405 the `Allow` header.
    var expected: String
    var params: [String: String] = [:]

    var testDescription: String { "\(method) \(target) -> \(status) \(expected)" }
}

@Suite("Routing")
struct RouterTests {
    @Test(arguments: [
        RouteCase(method: .get, target: "/api/files/special", status: 200, expected: "literal"),
        RouteCase(method: .get, target: "/api/files/special/", status: 200, expected: "literal"),
        RouteCase(method: .get, target: "/api/files/report.pdf", status: 200, expected: "param", params: ["name": "report.pdf"]),
        RouteCase(method: .get, target: "/api/files/hello%20world", status: 200, expected: "param", params: ["name": "hello world"]),
        RouteCase(method: .get, target: "/api/files/a/b/c.txt", status: 200, expected: "wildcard", params: ["rest": "a/b/c.txt"]),
        RouteCase(method: .get, target: "/api/files/caf%C3%A9/menu", status: 200, expected: "wildcard", params: ["rest": "café/menu"]),
        RouteCase(method: .get, target: "/api/files", status: 200, expected: "wildcard", params: ["rest": ""]),
        RouteCase(method: .get, target: "/api/users/me", status: 200, expected: "me"),
        // The literal route has no DELETE: the parameter route takes it.
        RouteCase(method: .delete, target: "/api/users/me", status: 200, expected: "delete-user", params: ["id": "me"]),
        RouteCase(method: .get, target: "/api/users/42", status: 405, expected: "DELETE"),
        RouteCase(method: .put, target: "/api/users/me", status: 405, expected: "GET, HEAD, DELETE"),
        RouteCase(method: .post, target: "/api/items", status: 200, expected: "items"),
        RouteCase(method: .post, target: "/api/items/", status: 200, expected: "items"),
        RouteCase(method: .get, target: "/api/items", status: 405, expected: "POST"),
        RouteCase(method: .patch, target: "/api/orgs/acme/repos/fnrt", status: 200, expected: "repo", params: ["org": "acme", "repo": "fnrt"]),
        RouteCase(method: .get, target: "/api/orgs/acme/repos", status: 404, expected: ""),
        RouteCase(method: .get, target: "/api/nothing/here", status: 404, expected: ""),
        RouteCase(method: .get, target: "/api", status: 200, expected: "root"),
        RouteCase(method: .get, target: "/api/", status: 200, expected: "root"),
        RouteCase(method: .post, target: "/api/", status: 405, expected: "GET, HEAD"),
    ])
    func routes(_ test: RouteCase) async throws {
        let gateway = try await makeGateway(routingSpec)
        let response = try await gateway.send(request(test.method, test.target))
        #expect(response.status.code == test.status)
        switch test.status {
        case 200:
            let echo = try #require(response.echo)
            #expect(echo.name == test.expected)
            #expect(echo.params == test.params)
            #expect(echo.method == test.method.rawValue)
        case 405:
            #expect(response.header("Allow") == test.expected)
        default:
            #expect(response.header("Allow") == nil)
        }
    }

    @Test("HEAD is served by the GET route, without a body")
    func headFollowsGet() async throws {
        let gateway = try await makeGateway(routingSpec)
        let response = try await gateway.send(request(.head, "/api/files/special"))
        #expect(response.status == .ok)
        #expect(response.body.readableBytes == 0)
        #expect(response.header("Content-Type") == "application/json")
    }

    /// RFC 9110: a HEAD answer has the fields a GET's would, its length
    /// included; it said `Content-Length: 0`.
    @Test("HEAD's answer has the length of the GET's body")
    func headKeepsTheLength() async throws {
        let gateway = try await makeGateway(#"{"routes": [{"path": "/page", "methods": ["GET"], "backend": {"type": "STOCK_RESPONSE_BACKEND", "status": 200, "body": "twelve bytes"}}]}"#)
        let response = try await gateway.send(request(.head, "/api/page"))
        #expect(response.status == .ok && response.body.readableBytes == 0)
        #expect(response.header("Content-Length") == "12")
    }

    @Test("the request carries the path under the prefix and the raw query to the backend")
    func routePathAndQuery() async throws {
        let gateway = try await makeGateway(routingSpec)
        let echo = try #require(try await gateway.send(request(.get, "/api/files/x%2Fy?q=a%20b&n=1")).echo)
        #expect(echo.routePath == "/files/x%2Fy")
        #expect(echo.params == ["name": "x/y"])
        #expect(echo.query == "q=a%20b&n=1")
    }

    @Test("a thousand routes, each request reaches its own")
    func manyRoutes() async throws {
        var routes: [String] = []
        for index in 0..<1000 {
            routes.append("{\"path\": \"/r\(index)/{id}/items\", \"methods\": [\"GET\"], \"backend\": {\"type\": \"TEST_ECHO\", \"name\": \"r\(index)\"}}")
        }
        let gateway = try await makeGateway("{\"routes\": [\(routes.joined(separator: ","))]}")
        let echo = try #require(try await gateway.send(request(.get, "/api/r999/7/items")).echo)
        #expect(echo.name == "r999")
        #expect(echo.params == ["id": "7"])
        #expect(try await gateway.send(request(.get, "/api/r1000/7/items")).status == .notFound)
    }
}
