import Foundation
import Testing
@testable import Management

@Suite("Routing")
struct RoutingTests {
    @Test("Wrong methods on known paths are 405 with Allow", arguments: [
        ("PATCH", "/v2/apps", "GET, POST"),
        ("DELETE", "/v2/apps", "GET, POST"),
        ("POST", "/v2/apps/01J0000000000000000000000", "GET, PUT, DELETE"),
        ("PUT", "/v2/fns", "GET, POST"),
        ("PATCH", "/v2/fns/x", "GET, PUT, DELETE"),
        ("HEAD", "/v2/triggers", "GET, POST"),
        ("POST", "/v2/triggers/x", "GET, PUT, DELETE"),
        ("DELETE", "/v2/openapi.json", "GET"),
    ])
    func methodNotAllowed(method: String, path: String, allow: String) throws {
        let r = try Client().call(method, path)
        #expect(r.status == 405)
        #expect(r.headers["Allow"] == allow)
        #expect(!r.message.isEmpty)
    }

    @Test("Unknown paths are 404", arguments: ["/v2", "/v2/", "/v2/routes", "/v2/apps/a/b", "/v1/apps", "/apps"])
    func unknownPath(path: String) throws {
        let r = try Client().get(path)
        #expect(r.status == 404)
        #expect(r.message == "Path not found")
    }

    @Test func trailingSlashesEncodedSegmentsAndLowercaseMethods() throws {
        let c = try Client()
        let id = try c.app("shop")
        #expect(c.get("/v2/apps/").status == 200)
        #expect(c.get("/v2/apps/\(id)/").status == 200)
        #expect(c.get("/v2/apps/%30\(id.dropFirst())").status == 200)  // "%30" is "0"
        #expect(c.call("get", "/v2/apps/\(id)").status == 200)
        // A "?" in a (decoded) path is part of the ID, not a query.
        #expect(c.get("/v2/triggers/?x").message == "Trigger not found")
    }

    @Test func errorBodiesAreFnsMessageObjects() throws {
        let c = try Client()
        let response = c.api.handle(method: "GET", path: "/v2/apps/nope", query: [:], body: [])
        #expect(response.headers["Content-Type"] == "application/json")
        let object = try JSONDecoder().decode([String: String].self, from: Data(response.body))
        #expect(object == ["message": "App not found"])
    }

    @Test func deletesAnswer204WithoutABody() throws {
        let c = try Client()
        let id = try c.app("shop")
        let response = c.api.handle(method: "DELETE", path: "/v2/apps/\(id)", query: [:], body: [])
        #expect(response.status == 204)
        #expect(response.body.isEmpty)
    }

    @Test func listsAreItemsAndNextCursor() throws {
        let c = try Client()
        try c.app("a")
        try c.app("b")
        let r = c.get("/v2/apps", ["per_page": "1"])
        #expect(Set(r.json.object.keys) == ["items", "next_cursor"])
        let last = c.get("/v2/apps", ["per_page": "1", "cursor": try #require(r.json["next_cursor"]?.string)])
        #expect(Set(last.json.object.keys) == ["items"])
        #expect(c.get("/v2/apps", ["name": "zzz"]).json == .object(["items": .array([])]))
    }

    @Test func openAPIDocumentDescribesTheRoutes() throws {
        let r = try Client().get("/v2/openapi.json")
        #expect(r.status == 200)
        let doc = try JSONDecoder().decode(JSONValue.self, from: Data(ManagementOpenAPI.json.utf8))
        #expect(r.json == doc)
        #expect(doc["openapi"]?.string?.hasPrefix("3.1") == true)
        let paths = doc["paths"]?.object ?? [:]
        #expect(Set(paths.keys) == ["/v2/apps", "/v2/apps/{appID}", "/v2/fns", "/v2/fns/{fnID}", "/v2/triggers", "/v2/triggers/{triggerID}"])
        for (path, item) in paths {
            let methods = Set(item.object.keys).subtracting(["parameters"])
            #expect(methods == (path.hasSuffix("}") ? ["get", "put", "delete"] : ["get", "post"]), "\(path)")
        }
        let schemas = doc["components"]?["schemas"]?.object ?? [:]
        #expect(schemas["Fn"]?["required"]?.array.contains(.string("idle_timeout")) == true)
        #expect(schemas["TriggerCreate"]?["properties"]?["type"]?["enum"] == .array([.string("http")]))
        // Every $ref resolves.
        let text = ManagementOpenAPI.json
        var refs = Set<String>()
        var rest = text[...]
        while let range = rest.range(of: "\"$ref\": \"#/components/") {
            let tail = rest[range.upperBound...]
            let end = tail.firstIndex(of: "\"")!
            refs.insert(String(tail[..<end]))
            rest = tail[end...]
        }
        #expect(!refs.isEmpty)
        for ref in refs {
            let parts = ref.split(separator: "/").map(String.init)
            #expect(doc["components"]?[parts[0]]?[parts[1]] != nil, "\(ref)")
        }
    }
}
