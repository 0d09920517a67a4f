import Foundation
import Testing
@testable import Management

@Suite("Persistence")
struct PersistenceTests {
    @Test func dataSurvivesClosingAndReopening() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let path = dir.path + "/nested/state/metadata.sqlite"  // parent directories are created

        let (app, fn, trigger): (App, Function, Trigger)
        do {
            let store = try MetadataStore(path: path)
            app = try store.createApp(AppInput(name: "shop", config: ["A": "1"], annotations: ["k": .object(["n": .number(1.5)])],
                                               syslogURL: "tcp://logs:514"))
            fn = try store.createFunction(FunctionInput(name: "cart", appID: app.id, image: "localhost:5000/cart:1",
                                                        memory: 512, idleTimeout: 90, config: ["B": "2"]))
            trigger = try store.createTrigger(TriggerInput(name: "cart", appID: app.id, fnID: fn.id, type: "http", source: "/cart"))
            try store.close()
        }
        #expect(FileManager.default.fileExists(atPath: path))

        let reopened = try MetadataStore(path: path)
        defer { try? reopened.close() }
        #expect(try reopened.app(id: app.id) == app)
        #expect(try reopened.function(id: fn.id) == fn)
        #expect(try reopened.trigger(id: trigger.id) == trigger)
        #expect(try reopened.httpTrigger(app: "shop", source: "/cart")?.2 == trigger)
        // Still writable, constraints still there.
        #expect(throws: ManagementError.self) { try reopened.createApp(AppInput(name: "shop")) }
        _ = try reopened.createApp(AppInput(name: "blog"))
        #expect(try reopened.listApps().items.map(\.name) == ["blog", "shop"])
    }

    @Test func twoStoresOnOneFileSeeEachOthersWrites() throws {
        // As `fnrt tune --apply` and a running server would.
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let path = dir.path + "/metadata.sqlite"
        let server = try MetadataStore(path: path)
        let tool = try MetadataStore(path: path)
        let app = try server.createApp(AppInput(name: "shop"))
        let fn = try server.createFunction(FunctionInput(name: "f", appID: app.id, image: "i"))
        _ = try tool.updateFunction(id: fn.id, FunctionInput(idleTimeout: 300))
        #expect(try server.function(id: fn.id)?.idleTimeout == 300)
        try tool.close()
        try server.close()
    }
}
