import Testing
@testable import Management

@Suite("Lookups for the runtime and the gateway")
struct LookupTests {
    let store: MetadataStore
    let app: App
    let fn: Function
    let trigger: Trigger

    init() throws {
        store = try .inMemory()
        app = try store.createApp(AppInput(name: "shop"))
        fn = try store.createFunction(FunctionInput(name: "cart", appID: app.id, image: "i"))
        trigger = try store.createTrigger(TriggerInput(name: "cart", appID: app.id, fnID: fn.id, type: "http", source: "/cart/items"))
        let other = try store.createApp(AppInput(name: "blog"))
        _ = try store.createFunction(FunctionInput(name: "cart", appID: other.id, image: "j"))
    }

    @Test func resolveByIDAndByAppSlashName() throws {
        let byID = try #require(try store.resolveFunction(fn.id))
        #expect(byID.0 == app)
        #expect(byID.1 == fn)
        let byName = try #require(try store.resolveFunction("shop/cart"))
        #expect(byName.1 == fn)
        #expect(try store.resolveFunction("blog/cart")?.1.image == "j")
    }

    @Test("Unknown references resolve to nil", arguments: ["shop/nope", "nope/cart", "01J0000000000000000000000", "", "/", "shop/"])
    func unknownReferences(reference: String) throws {
        #expect(try store.resolveFunction(reference) == nil)
    }

    @Test func functionByAppAndName() throws {
        #expect(try store.function(app: "shop", name: "cart") == fn)
        #expect(try store.function(app: "shop", name: "other") == nil)
        #expect(try store.app(named: "shop") == app)
        #expect(try store.app(named: "nope") == nil)
    }

    @Test("HTTP triggers are found by app name and source", arguments: ["/cart/items", "cart/items"])
    func httpTrigger(source: String) throws {
        let found = try #require(try store.httpTrigger(app: "shop", source: source))
        #expect(found.0 == app)
        #expect(found.1 == fn)
        #expect(found.2 == trigger)
    }

    @Test func sourcesMayStartWithAnyCharacterAfterTheSlash() throws {
        // "/" followed by a combining mark or emoji modifier is one Character but still a path.
        let t = try store.createTrigger(TriggerInput(name: "odd", appID: app.id, fnID: fn.id, type: "http", source: "/\u{1F3FB}x"))
        #expect(try store.httpTrigger(app: "shop", source: "/\u{1F3FB}x")?.2 == t)
        #expect(try store.httpTrigger(app: "shop", source: "\u{1F3FB}x")?.2 == t)
    }

    @Test("Other sources and apps find nothing", arguments: [("shop", "/cart"), ("shop", "/cart/items/"), ("blog", "/cart/items"), ("nope", "/cart/items")])
    func noTrigger(app: String, source: String) throws {
        #expect(try store.httpTrigger(app: app, source: source) == nil)
    }
}
