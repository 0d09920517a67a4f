import Testing
@testable import Management

@Suite("Functions")
struct FunctionTests {
    @Test func createAppliesFnDefaults() throws {
        let c = try Client()
        let app = try c.app("shop")
        let r = c.post("/v2/fns", #"{"name": "cart", "app_id": "\#(app)", "image": "localhost:5000/cart:1"}"#)
        #expect(r.status == 200)
        #expect(r.json["memory"]?.int == 128)
        #expect(r.json["timeout"]?.int == 30)
        #expect(r.json["idle_timeout"]?.int == 30)
        #expect(r.json["app_id"]?.string == app)
        #expect(r.json["config"]?.object == [:])
        let id = try #require(r.json["id"]?.string)
        let fn = try #require(try c.store.function(id: id))
        #expect((fn.memory, fn.timeout, fn.idleTimeout) == (128, 30, 30))
    }

    /// fnrt's extension: `"idle_timeout": "auto"` turns on the adaptive
    /// keep-alive as an annotation; Fn clients still read an integer.
    @Test func idleTimeoutAutoIsKeptAsAnAnnotation() throws {
        let c = try Client()
        let app = try c.app("shop")
        let id = try c.function("cart", app: app, #", "idle_timeout": "auto""#)
        let got = c.get("/v2/fns/\(id)")
        #expect(got.json["idle_timeout"]?.int == 30)
        #expect(got.json["annotations"]?.object["fnrt.io/idle_timeout"] == .string("auto"))
        #expect(try c.store.function(id: id)?.hasAdaptiveIdleTimeout == true)

        let off = c.put("/v2/fns/\(id)", #"{"idle_timeout": 90, "annotations": {"fnrt.io/idle_timeout": ""}}"#)
        #expect(off.json["idle_timeout"]?.int == 90)
        #expect(try c.store.function(id: id)?.hasAdaptiveIdleTimeout == false)
        #expect(c.put("/v2/fns/\(id)", #"{"idle_timeout": "soon"}"#).status == 400)
    }

    @Test func crud() throws {
        let c = try Client()
        let app = try c.app("shop")
        let id = try c.function("cart", app: app, #", "memory": 256, "timeout": 60, "idle_timeout": 120, "config": {"K": "v"}"#)
        let got = c.get("/v2/fns/\(id)")
        #expect(got.status == 200)
        #expect(got.json["memory"]?.int == 256)

        let updated = c.put("/v2/fns/\(id)", #"{"image": "localhost:5000/cart:2", "idle_timeout": 600, "config": {"K": "", "L": "w"}}"#)
        #expect(updated.status == 200)
        #expect(updated.json["image"]?.string == "localhost:5000/cart:2")
        #expect(updated.json["idle_timeout"]?.int == 600)
        #expect(updated.json["memory"]?.int == 256)
        #expect(updated.json["timeout"]?.int == 60)
        #expect(updated.json["config"]?.object == ["L": .string("w")])

        #expect(c.delete("/v2/fns/\(id)").status == 204)
        #expect(c.get("/v2/fns/\(id)").status == 404)
        #expect(c.delete("/v2/fns/\(id)").message == "Fn not found")
    }

    @Test func storeUpdateForTuning() throws {
        // What `fnrt tune --apply` does.
        let store = try MetadataStore.inMemory()
        let app = try store.createApp(AppInput(name: "shop"))
        let fn = try store.createFunction(FunctionInput(name: "f", appID: app.id, image: "i"))
        let tuned = try store.updateFunction(id: fn.id, FunctionInput(idleTimeout: 900))
        #expect(tuned.idleTimeout == 900)
        #expect(tuned.updatedAt >= fn.updatedAt)
        #expect(try store.function(id: fn.id) == tuned)
        #expect(throws: ManagementError.self) { try store.updateFunction(id: fn.id, FunctionInput(idleTimeout: 3601)) }
    }

    @Test func namesAreUniquePerApp() throws {
        let c = try Client()
        let shop = try c.app("shop")
        let blog = try c.app("blog")
        try c.function("cart", app: shop)
        let dup = c.post("/v2/fns", #"{"name": "cart", "app_id": "\#(shop)", "image": "i"}"#)
        #expect(dup.status == 409)
        #expect(dup.message.contains("already exists"))
        #expect(c.post("/v2/fns", #"{"name": "cart", "app_id": "\#(blog)", "image": "i"}"#).status == 200)
    }

    @Test func unknownAppIsNotFound() throws {
        let c = try Client()
        let r = c.post("/v2/fns", #"{"name": "cart", "app_id": "01J0000000000000000000000", "image": "i"}"#)
        #expect(r.status == 404)
        #expect(r.message == "App not found")
    }

    @Test("Changing name or app_id is refused", arguments: [
        (#"{"name": "other"}"#, "name"),
        (#"{"app_id": "OTHER"}"#, "app_id"),
    ])
    func immutableFields(body: String, field: String) throws {
        let c = try Client()
        let app = try c.app("shop")
        let id = try c.function("cart", app: app)
        let r = c.put("/v2/fns/\(id)", body)
        #expect(r.status == 400)
        #expect(r.message.contains(field))
        #expect(c.put("/v2/fns/\(id)", #"{"name": "cart", "app_id": "\#(app)"}"#).status == 200)
    }

    @Test func listNeedsAppID() throws {
        let c = try Client()
        let r = c.get("/v2/fns")
        #expect(r.status == 400)
        #expect(r.message.contains("app_id"))
    }

    @Test func listIsPerAppAndFiltersByName() throws {
        let c = try Client()
        let shop = try c.app("shop")
        let blog = try c.app("blog")
        try c.function("b", app: shop)
        try c.function("a", app: shop)
        try c.function("c", app: blog)
        let all = c.get("/v2/fns", ["app_id": shop])
        #expect(all.json["items"]?.array.compactMap { $0["name"]?.string } == ["a", "b"])
        let one = c.get("/v2/fns", ["app_id": shop, "name": "b"])
        #expect(one.json["items"]?.array.compactMap { $0["name"]?.string } == ["b"])
        #expect(c.get("/v2/fns", ["app_id": "01J0000000000000000000000"]).json["items"]?.array.isEmpty == true)
    }

    @Test func deletingAFunctionRemovesItsTriggers() throws {
        let c = try Client()
        let app = try c.app("shop")
        let cart = try c.function("cart", app: app)
        let other = try c.function("other", app: app)
        let t1 = try c.trigger("t1", app: app, fn: cart, source: "/cart")
        let t2 = try c.trigger("t2", app: app, fn: cart, source: "/cart/items")
        let kept = try c.trigger("t3", app: app, fn: other, source: "/other")
        #expect(c.delete("/v2/fns/\(cart)").status == 204)
        #expect(c.get("/v2/triggers/\(t1)").status == 404)
        #expect(c.get("/v2/triggers/\(t2)").status == 404)
        #expect(c.get("/v2/triggers/\(kept)").status == 200)
        #expect(try c.store.httpTrigger(app: "shop", source: "/cart") == nil)
        // The source is free again.
        try c.trigger("t1", app: app, fn: other, source: "/cart")
    }

    @Test func invokeEndpointAnnotationWhenTheBaseURLIsKnown() throws {
        let c = try Client(baseURL: "http://localhost:8080/")
        let app = try c.app("shop")
        let id = try c.function("cart", app: app)
        let r = c.get("/v2/fns/\(id)")
        #expect(r.json["annotations"]?["fnproject.io/fn/invokeEndpoint"]?.string == "http://localhost:8080/invoke/\(id)")
        // Not stored.
        #expect(try c.store.function(id: id)?.annotations.isEmpty == true)
    }
}
