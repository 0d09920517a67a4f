import Testing
@testable import Management

@Suite("Validation")
struct ValidationTests {
    /// A request whose body names `$APP`, `$FN` (an app "shop" and its function "cart"), and the field at fault.
    struct Case: CustomTestStringConvertible, Sendable {
        var method = "POST"
        var path: String
        var body: String
        var field: String
        var testDescription: String { "\(method) \(path) \(body.prefix(60)) -> \(field)" }
    }

    static let longName = String(repeating: "a", count: 256)

    static let cases: [Case] = [
        // Apps.
        Case(path: "/v2/apps", body: #"{}"#, field: "name"),
        Case(path: "/v2/apps", body: #"{"name": ""}"#, field: "name"),
        Case(path: "/v2/apps", body: #"{"name": "has space"}"#, field: "name"),
        Case(path: "/v2/apps", body: #"{"name": "a/b"}"#, field: "name"),
        Case(path: "/v2/apps", body: #"{"name": "ünï"}"#, field: "name"),
        Case(path: "/v2/apps", body: #"{"name": "\#(longName)"}"#, field: "name"),
        Case(path: "/v2/apps", body: #"{"name": 5}"#, field: "name"),
        Case(path: "/v2/apps", body: #"{"name": "ok", "config": {"A": 1}}"#, field: "config"),
        Case(path: "/v2/apps", body: #"{"name": "ok", "config": ["A"]}"#, field: "config"),
        Case(path: "/v2/apps", body: #"{"name": "ok", "config": {"": "x"}}"#, field: "config key"),
        Case(path: "/v2/apps", body: #"{"name": "ok", "config": {"A=B": "x"}}"#, field: "config key"),
        Case(path: "/v2/apps", body: #"{"name": "ok", "config": {"A\u0000B": "x"}}"#, field: "config key"),
        Case(path: "/v2/apps", body: #"{"name": "ok", "config": {"A": "x\u0000y"}}"#, field: "config value"),
        Case(method: "PUT", path: "/v2/apps/$APP", body: #"{"config": {"A=B": "x"}}"#, field: "config key"),
        Case(path: "/v2/apps", body: #"{"name": "ok", "annotations": {"bad key": 1}}"#, field: "annotation"),
        Case(path: "/v2/apps", body: #"{"name": "ok", "annotations": {"k": ""}}"#, field: "annotation"),
        Case(path: "/v2/apps", body: #"{"name": "ok", "annotations": "k"}"#, field: "annotations"),
        Case(path: "/v2/apps", body: #"{"name": "ok", "syslog_url": "http://logs"}"#, field: "syslog_url"),
        Case(path: "/v2/apps", body: #"{"name": "ok", "shape": "GENERIC_MIPS"}"#, field: "shape"),
        // Functions.
        Case(path: "/v2/fns", body: #"{"name": "f", "image": "i"}"#, field: "app_id"),
        Case(path: "/v2/fns", body: #"{"app_id": "$APP", "image": "i"}"#, field: "name"),
        Case(path: "/v2/fns", body: #"{"name": "f.g", "app_id": "$APP", "image": "i"}"#, field: "name"),
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP"}"#, field: "image"),
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP", "image": "i", "memory": -1}"#, field: "memory"),
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP", "image": "i", "memory": 8193}"#, field: "memory"),
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP", "image": "i", "memory": "128"}"#, field: "memory"),
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP", "image": "i", "memory": 1.5}"#, field: "memory"),
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP", "image": "i", "timeout": 301}"#, field: "timeout"),
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP", "image": "i", "timeout": -5}"#, field: "timeout"),
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP", "image": "i", "idle_timeout": 3601}"#, field: "idle_timeout"),
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP", "image": "i", "idle_timeout": -1}"#, field: "idle_timeout"),
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP", "image": "i", "config": {"X=1": "y"}}"#, field: "config key"),
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP", "image": "i", "config": {"X": "\u0000"}}"#, field: "config value"),
        Case(method: "PUT", path: "/v2/fns/$FN", body: #"{"config": {"": "y"}}"#, field: "config key"),
        Case(method: "PUT", path: "/v2/fns/$FN", body: #"{"memory": 9000}"#, field: "memory"),
        Case(method: "PUT", path: "/v2/fns/$FN", body: #"{"timeout": 1000}"#, field: "timeout"),
        Case(method: "PUT", path: "/v2/fns/$FN", body: #"{"idle_timeout": 7200}"#, field: "idle_timeout"),
        // fnrt's provisioned concurrency: a whole number of containers, 0 to 100.
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP", "image": "i", "annotations": {"fnrt.io/provisioned_concurrency": -1}}"#, field: "fnrt.io/provisioned_concurrency"),
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP", "image": "i", "annotations": {"fnrt.io/provisioned_concurrency": 1.5}}"#, field: "fnrt.io/provisioned_concurrency"),
        Case(path: "/v2/fns", body: #"{"name": "f", "app_id": "$APP", "image": "i", "annotations": {"fnrt.io/provisioned_concurrency": "2"}}"#, field: "fnrt.io/provisioned_concurrency"),
        Case(method: "PUT", path: "/v2/fns/$FN", body: #"{"annotations": {"fnrt.io/provisioned_concurrency": 101}}"#, field: "fnrt.io/provisioned_concurrency"),
        // Triggers.
        Case(path: "/v2/triggers", body: #"{"name": "t", "fn_id": "$FN", "type": "http", "source": "/t"}"#, field: "app_id"),
        Case(path: "/v2/triggers", body: #"{"app_id": "$APP", "fn_id": "$FN", "type": "http", "source": "/t"}"#, field: "name"),
        Case(path: "/v2/triggers", body: #"{"name": "t", "app_id": "$APP", "type": "http", "source": "/t"}"#, field: "fn_id"),
        Case(path: "/v2/triggers", body: #"{"name": "t", "app_id": "$APP", "fn_id": "$FN", "source": "/t"}"#, field: "type"),
        Case(path: "/v2/triggers", body: #"{"name": "t", "app_id": "$APP", "fn_id": "$FN", "type": "cron", "source": "/t"}"#, field: "type"),
        Case(path: "/v2/triggers", body: #"{"name": "t", "app_id": "$APP", "fn_id": "$FN", "type": "http"}"#, field: "source"),
        Case(path: "/v2/triggers", body: #"{"name": "t", "app_id": "$APP", "fn_id": "$FN", "type": "http", "source": "t"}"#, field: "source"),
        Case(path: "/v2/triggers", body: #"{"name": "t", "app_id": "$APP", "fn_id": "$FN", "type": "http", "source": "/a b"}"#, field: "source"),
        Case(path: "/v2/triggers", body: #"{"name": "t", "app_id": "$APP", "fn_id": "$FN", "type": "http", "source": "/a?b=1"}"#, field: "source"),
    ]

    @Test("Invalid fields are 400 and the message names the field", arguments: cases)
    func invalidField(_ test: Case) throws {
        let c = try Client()
        let app = try c.app("shop")
        let fn = try c.function("cart", app: app)
        func fill(_ s: String) -> String {
            s.replacingOccurrences(of: "$APP", with: app).replacingOccurrences(of: "$FN", with: fn)
        }
        let r = c.call(test.method, fill(test.path), body: fill(test.body))
        #expect(r.status == 400)
        #expect(r.message.contains(test.field), "message: \(r.message)")
        // Nothing was stored.
        #expect(try c.store.listApps().items.count == 1)
        #expect(try c.store.function(id: fn)?.memory == Function.defaultMemory)
        #expect(try c.store.app(id: app)?.config == [:])
        #expect(try c.store.function(id: fn)?.config == [:])
    }

    @Test("The store reports the field in ManagementError.field", arguments: [
        (FunctionInput(name: "f", image: "i"), "app_id"),
        (FunctionInput(name: "f", appID: "a", image: "i", memory: 0x10000), "memory"),
        (FunctionInput(name: "f", appID: "a", image: "i", timeout: 301), "timeout"),
        (FunctionInput(name: "f", appID: "a", image: "i", idleTimeout: 3601), "idle_timeout"),
        (FunctionInput(name: "", appID: "a", image: "i"), "name"),
    ])
    func storeErrorField(input: FunctionInput, field: String) throws {
        let store = try MetadataStore.inMemory()
        let error = #expect(throws: ManagementError.self) { try store.createFunction(input) }
        #expect(error?.field == field)
        #expect(error?.status == 400)
    }

    @Test("Bodies that are not a JSON object are 400", arguments: ["", "{", "[]", "null", "\"app\"", "{\"name\": \"a\"} x"])
    func invalidJSON(body: String) throws {
        let c = try Client()
        let r = c.post("/v2/apps", body)
        #expect(r.status == 400)
        #expect(r.message.hasPrefix("Invalid JSON"))
    }

    @Test("Zero or absent numbers take Fn's defaults", arguments: [
        (#", "memory": 0, "timeout": 0, "idle_timeout": 0"#, 128, 30, 30),
        (#", "memory": null"#, 128, 30, 30),
        (#", "memory": 8192, "timeout": 300, "idle_timeout": 3600"#, 8192, 300, 3600),
        (#", "memory": 1, "timeout": 1, "idle_timeout": 1"#, 1, 1, 1),
    ])
    func limits(extra: String, memory: Int, timeout: Int, idle: Int) throws {
        let c = try Client()
        let app = try c.app("shop")
        let fn = try #require(try c.store.function(id: try c.function("f", app: app, extra)))
        #expect(fn.memory == memory)
        #expect(fn.timeout == timeout)
        #expect(fn.idleTimeout == idle)
    }

    @Test("Names of 255 letters, digits, '_' and '-' are accepted")
    func validNames() throws {
        let c = try Client()
        try c.app(String(repeating: "z", count: 255))
        try c.app("A-b_9")
    }

    @Test("A config key stored before such keys were refused can still be removed, and other keys set")
    func aRefusedConfigKeyStoredEarlierCanBeRemoved() throws {
        let c = try Client()
        let id = try c.app("shop", #", "config": {"OK": "1"}"#)
        // As a database written before the rule would hold it.
        try c.store.write { db in
            var app = try #require(try MetadataStore.fetchApp(db, id: id))
            app.config["A=B"] = "x"
            try app.save(db, insert: false)
            return ((), [])
        }
        #expect(c.put("/v2/apps/\(id)", #"{"config": {"A=B": "", "NEW": "2"}}"#).status == 200)
        #expect(try c.store.app(id: id)?.config == ["OK": "1", "NEW": "2"])
    }
}
