import Testing
@testable import Management

@Suite("Triggers")
struct TriggerTests {
    @Test func crud() throws {
        let c = try Client()
        let app = try c.app("shop")
        let cart = try c.function("cart", app: app)
        let other = try c.function("other", app: app)
        let created = c.post("/v2/triggers",
                             #"{"name": "cart", "app_id": "\#(app)", "fn_id": "\#(cart)", "type": "http", "source": "/cart", "annotations": {"x": 1}}"#)
        #expect(created.status == 200)
        let id = try #require(created.json["id"]?.string)
        #expect(created.json["type"]?.string == "http")
        #expect(created.json["source"]?.string == "/cart")
        #expect(created.json["fn_id"]?.string == cart)
        #expect(c.get("/v2/triggers/\(id)").json == created.json)

        let moved = c.put("/v2/triggers/\(id)", #"{"fn_id": "\#(other)", "source": "/basket", "annotations": {"x": null, "y": "z"}}"#)
        #expect(moved.status == 200)
        #expect(moved.json["fn_id"]?.string == other)
        #expect(moved.json["source"]?.string == "/basket")
        #expect(moved.json["annotations"]?.object == ["y": .string("z")])
        #expect(try c.store.httpTrigger(app: "shop", source: "/basket")?.1.id == other)

        #expect(c.delete("/v2/triggers/\(id)").status == 204)
        let gone = c.get("/v2/triggers/\(id)")
        #expect(gone.status == 404)
        #expect(gone.message == "Trigger not found")
    }

    @Test("Sources and names are unique within an app", arguments: [
        (#"{"name": "second", "source": "/cart"}"#, "source"),
        (#"{"name": "first", "source": "/elsewhere"}"#, "name"),
    ])
    func conflicts(fields: String, conflicting: String) throws {
        let c = try Client()
        let app = try c.app("shop")
        let fn = try c.function("cart", app: app)
        try c.trigger("first", app: app, fn: fn, source: "/cart")
        let body = fields.dropLast() + #", "app_id": "\#(app)", "fn_id": "\#(fn)", "type": "http"}"#
        let r = c.post("/v2/triggers", String(body))
        #expect(r.status == 409)
        #expect(r.message.contains(conflicting) || r.message.contains("already exists"))
    }

    @Test func sameSourceInAnotherAppIsFine() throws {
        let c = try Client()
        let shop = try c.app("shop")
        let blog = try c.app("blog")
        try c.trigger("t", app: shop, fn: try c.function("f", app: shop), source: "/x")
        try c.trigger("t", app: blog, fn: try c.function("f", app: blog), source: "/x")
        #expect(try c.store.httpTrigger(app: "blog", source: "/x")?.0.name == "blog")
    }

    @Test func updateIntoATakenSourceIsAConflict() throws {
        let c = try Client()
        let app = try c.app("shop")
        let fn = try c.function("f", app: app)
        try c.trigger("a", app: app, fn: fn, source: "/a")
        let b = try c.trigger("b", app: app, fn: fn, source: "/b")
        #expect(c.put("/v2/triggers/\(b)", #"{"source": "/a"}"#).status == 409)
        #expect(c.put("/v2/triggers/\(b)", #"{"name": "a"}"#).status == 409)
        #expect(c.put("/v2/triggers/\(b)", #"{"source": "/b", "name": "b"}"#).status == 200)
    }

    @Test func functionMustBelongToTheApp() throws {
        let c = try Client()
        let shop = try c.app("shop")
        let blog = try c.app("blog")
        let blogFn = try c.function("post", app: blog)
        let r = c.post("/v2/triggers", #"{"name": "t", "app_id": "\#(shop)", "fn_id": "\#(blogFn)", "type": "http", "source": "/t"}"#)
        #expect(r.status == 404)
        #expect(r.message.contains("fn_id"))
        let missing = c.post("/v2/triggers", #"{"name": "t", "app_id": "\#(shop)", "fn_id": "01J0000000000000000000000", "type": "http", "source": "/t"}"#)
        #expect(missing.status == 404)
        #expect(missing.message == "Fn not found")
    }

    /// In an update, "" leaves a field as it was (as its OpenAPI schema says);
    /// another trigger type is refused.
    @Test(arguments: [
        (#"{"type": "", "name": "", "source": ""}"#, 200),
        (#"{"type": "grpc"}"#, 400),
        (#"{"source": "no-slash"}"#, 400),
    ])
    func emptyFieldsInAnUpdateAreUnchanged(body: String, status: Int) throws {
        let c = try Client()
        let app = try c.app("shop")
        let id = try c.trigger("t", app: app, fn: try c.function("f", app: app), source: "/t")
        let before = c.get("/v2/triggers/\(id)").json
        let r = c.put("/v2/triggers/\(id)", body)
        #expect(r.status == status, "\(r.message)")
        #expect(c.get("/v2/triggers/\(id)").json == before)
    }

    @Test func appIDCannotChange() throws {
        let c = try Client()
        let app = try c.app("shop")
        let id = try c.trigger("t", app: app, fn: try c.function("f", app: app), source: "/t")
        let r = c.put("/v2/triggers/\(id)", #"{"app_id": "OTHER"}"#)
        #expect(r.status == 400)
        #expect(r.message.contains("app_id"))
    }

    @Test func listFiltersByFunctionAndName() throws {
        let c = try Client()
        let app = try c.app("shop")
        let f = try c.function("f", app: app)
        let g = try c.function("g", app: app)
        try c.trigger("b", app: app, fn: f, source: "/b")
        try c.trigger("a", app: app, fn: f, source: "/a")
        try c.trigger("c", app: app, fn: g, source: "/c")
        func names(_ query: [String: String]) -> [String] {
            c.get("/v2/triggers", query).json["items"]?.array.compactMap { $0["name"]?.string } ?? []
        }
        #expect(names(["app_id": app]) == ["a", "b", "c"])
        #expect(names(["app_id": app, "fn_id": f]) == ["a", "b"])
        #expect(names(["app_id": app, "name": "c"]) == ["c"])
        #expect(c.get("/v2/triggers").status == 400)
    }

    @Test func httpEndpointAnnotationWhenTheBaseURLIsKnown() throws {
        let c = try Client(baseURL: "http://127.0.0.1:8080")
        let app = try c.app("shop")
        let id = try c.trigger("t", app: app, fn: try c.function("f", app: app), source: "/hello/world")
        #expect(c.get("/v2/triggers/\(id)").json["annotations"]?["fnproject.io/trigger/httpEndpoint"]?.string
            == "http://127.0.0.1:8080/t/shop/hello/world")
    }
}
