import Testing
@testable import Management

@Suite("Apps")
struct AppTests {
    @Test func createGetUpdateDelete() throws {
        let c = try Client()
        let created = c.post("/v2/apps", #"{"name": "shop", "config": {"A": "1"}, "annotations": {"team": "web", "n": 3}}"#)
        #expect(created.status == 200)
        let id = try #require(created.json["id"]?.string)
        #expect(id.count == 26)
        #expect(created.json["name"]?.string == "shop")
        #expect(created.json["config"]?.object == ["A": .string("1")])
        #expect(created.json["annotations"]?.object == ["team": .string("web"), "n": .number(3)])
        #expect(created.json["shape"]?.string == "GENERIC_X86")
        #expect(created.json["created_at"] == created.json["updated_at"])

        let fetched = c.get("/v2/apps/\(id)")
        #expect(fetched.status == 200)
        #expect(fetched.json == created.json)

        let updated = c.put("/v2/apps/\(id)", #"{"config": {"B": "2"}, "syslog_url": "tcp://logs:514"}"#)
        #expect(updated.status == 200)
        #expect(updated.json["config"]?.object == ["A": .string("1"), "B": .string("2")])
        #expect(updated.json["syslog_url"]?.string == "tcp://logs:514")
        #expect(updated.json["created_at"] == created.json["created_at"])

        #expect(c.delete("/v2/apps/\(id)").status == 204)
        #expect(c.get("/v2/apps/\(id)").status == 404)
        #expect(try c.store.app(id: id) == nil)
    }

    @Test func duplicateNameIsAConflict() throws {
        let c = try Client()
        try c.app("shop")
        let again = c.post("/v2/apps", #"{"name": "shop"}"#)
        #expect(again.status == 409)
        #expect(again.message.contains("already exists"))
    }

    @Test("Unknown app ids are 404 with Fn's message", arguments: ["GET", "PUT", "DELETE"])
    func unknownID(method: String) throws {
        let c = try Client()
        let r = c.call(method, "/v2/apps/01J0000000000000000000000", body: "{}")
        #expect(r.status == 404)
        #expect(r.message == "App not found")
    }

    @Test func configMergeRemovesKeysWithEmptyValues() throws {
        let c = try Client()
        let id = try c.app("shop", #", "config": {"KEEP": "k", "DROP": "d", "CHANGE": "old"}"#)
        let r = c.put("/v2/apps/\(id)", #"{"config": {"DROP": "", "CHANGE": "new", "ADD": "a"}}"#)
        #expect(r.status == 200)
        #expect(r.json["config"]?.object == ["KEEP": .string("k"), "CHANGE": .string("new"), "ADD": .string("a")])
        #expect(try c.store.app(id: id)?.config == ["KEEP": "k", "CHANGE": "new", "ADD": "a"])
    }

    @Test func annotationsMergeAndEmptyOrNullRemoves() throws {
        let c = try Client()
        let id = try c.app("shop", #", "annotations": {"a": 1, "b": "x", "c": {"d": true}}"#)
        let r = c.put("/v2/apps/\(id)", #"{"annotations": {"a": "", "b": null, "e": [1, 2]}}"#)
        #expect(r.status == 200)
        #expect(r.json["annotations"]?.object == ["c": .object(["d": .bool(true)]), "e": .array([.number(1), .number(2)])])
    }

    @Test func emptySyslogURLRemovesIt() throws {
        let c = try Client()
        let id = try c.app("shop", #", "syslog_url": "udp://a:514, tcp+tls://b:6514""#)
        #expect(c.get("/v2/apps/\(id)").json["syslog_url"]?.string == "udp://a:514, tcp+tls://b:6514")
        let r = c.put("/v2/apps/\(id)", #"{"syslog_url": ""}"#)
        #expect(r.status == 200)
        #expect(r.json["syslog_url"] == nil)
    }

    @Test func nameAndShapeAreImmutable() throws {
        let c = try Client()
        let id = try c.app("shop")
        let rename = c.put("/v2/apps/\(id)", #"{"name": "other"}"#)
        #expect(rename.status == 409)
        #expect(rename.message.contains("name"))
        #expect(c.put("/v2/apps/\(id)", #"{"name": "shop"}"#).status == 200)
        #expect(c.put("/v2/apps/\(id)", #"{"shape": "GENERIC_ARM"}"#).status == 409)
    }

    @Test func idInBodyMustMatchPathAndIsRefusedOnCreate() throws {
        let c = try Client()
        let id = try c.app("shop")
        let mismatch = c.put("/v2/apps/\(id)", #"{"id": "01J0000000000000000000000"}"#)
        #expect(mismatch.status == 400)
        #expect(mismatch.message.contains("ID"))
        #expect(c.post("/v2/apps", #"{"id": "x", "name": "b"}"#).status == 400)
    }

    @Test func updateWithoutChangesKeepsUpdatedAt() throws {
        let c = try Client()
        let id = try c.app("shop", #", "config": {"A": "1"}"#)
        let before = c.get("/v2/apps/\(id)").json
        let after = c.put("/v2/apps/\(id)", #"{"config": {"A": "1"}}"#).json
        #expect(after == before)
    }

    @Test func deletingAnAppDeletesItsFunctionsAndTriggers() throws {
        // Fn's datastore removes an app's fns and triggers with it.
        let c = try Client()
        let app = try c.app("shop")
        let fn = try c.function("cart", app: app)
        let trigger = try c.trigger("cart", app: app, fn: fn, source: "/cart")
        #expect(c.delete("/v2/apps/\(app)").status == 204)
        #expect(c.get("/v2/fns/\(fn)").status == 404)
        #expect(c.get("/v2/triggers/\(trigger)").status == 404)
        #expect(try c.store.app(named: "shop") == nil)
    }

    @Test func listFiltersByName() throws {
        let c = try Client()
        try c.app("a")
        try c.app("b")
        let r = c.get("/v2/apps", ["name": "b"])
        #expect(r.status == 200)
        #expect(r.json["items"]?.array.compactMap { $0["name"]?.string } == ["b"])
        #expect(r.json["next_cursor"] == nil)
    }

    @Test func effectiveConfigLetsTheFunctionWin() throws {
        let store = try MetadataStore.inMemory()
        let app = try store.createApp(AppInput(name: "shop", config: ["A": "app", "B": "app"]))
        let fn = try store.createFunction(FunctionInput(name: "f", appID: app.id, image: "i", config: ["B": "fn", "C": "fn"]))
        #expect(app.effectiveConfig(for: fn) == ["A": "app", "B": "fn", "C": "fn"])
    }
}
