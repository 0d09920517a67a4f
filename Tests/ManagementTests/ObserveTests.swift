import Synchronization
import Testing
@testable import Management

@Suite("Change notifications")
struct ObserveTests {
    final class Recorder: Sendable {
        let changes = Mutex<[ManagementChange]>([])
        func take() -> [ManagementChange] { changes.withLock { c in defer { c = [] }; return c } }
    }

    @Test func observersHearEveryCommittedChange() throws {
        let store = try MetadataStore.inMemory()
        let recorder = Recorder()
        store.observe { change in recorder.changes.withLock { $0.append(change) } }

        let app = try store.createApp(AppInput(name: "shop"))
        #expect(recorder.take() == [.app(id: app.id, deleted: false)])
        let fn = try store.createFunction(FunctionInput(name: "f", appID: app.id, image: "i"))
        #expect(recorder.take() == [.function(id: fn.id, deleted: false)])
        let t = try store.createTrigger(TriggerInput(name: "t", appID: app.id, fnID: fn.id, type: "http", source: "/t"))
        #expect(recorder.take() == [.trigger(id: t.id, deleted: false)])

        _ = try store.updateFunction(id: fn.id, FunctionInput(idleTimeout: 60))
        #expect(recorder.take() == [.function(id: fn.id, deleted: false)])
        _ = try store.updateFunction(id: fn.id, FunctionInput(idleTimeout: 60))  // no change, no news
        #expect(recorder.take() == [])

        #expect(throws: ManagementError.self) { try store.createApp(AppInput(name: "shop")) }  // refused, no news
        #expect(recorder.take() == [])

        try store.deleteApp(id: app.id)
        #expect(recorder.take() == [.trigger(id: t.id, deleted: true), .function(id: fn.id, deleted: true), .app(id: app.id, deleted: true)])
    }

    @Test func deletingAFunctionReportsItsTriggers() throws {
        let store = try MetadataStore.inMemory()
        let app = try store.createApp(AppInput(name: "shop"))
        let fn = try store.createFunction(FunctionInput(name: "f", appID: app.id, image: "i"))
        let t = try store.createTrigger(TriggerInput(name: "t", appID: app.id, fnID: fn.id, type: "http", source: "/t"))
        let recorder = Recorder()
        store.observe { change in recorder.changes.withLock { $0.append(change) } }
        let api = ManagementAPI(store: store)
        #expect(api.handle(method: "DELETE", path: "/v2/fns/\(fn.id)", query: [:], body: []).status == 204)
        #expect(recorder.take() == [.trigger(id: t.id, deleted: true), .function(id: fn.id, deleted: true)])
    }

    @Test func theChangeIsVisibleWhenTheObserverRuns() throws {
        let store = try MetadataStore.inMemory()
        let seen = Mutex<[Int]>([])
        store.observe { change in
            if case .function(let id, false) = change, let fn = try? store.function(id: id) {
                seen.withLock { $0.append(fn.idleTimeout) }
            }
        }
        let app = try store.createApp(AppInput(name: "shop"))
        let fn = try store.createFunction(FunctionInput(name: "f", appID: app.id, image: "i"))
        _ = try store.updateFunction(id: fn.id, FunctionInput(idleTimeout: 45))
        #expect(seen.withLock { $0 } == [30, 45])
    }
}
