import Foundation
import Testing
@testable import Management

@Suite("Pagination")
struct PaginationTests {
    func names(_ r: Client.Response) -> [String] {
        r.json["items"]?.array.compactMap { $0["name"]?.string } ?? []
    }

    @Test func seventyFiveAppsInPagesOfThirty() throws {
        let c = try Client()
        let all = (0..<75).map { String(format: "app-%03d", $0) }
        for name in all.shuffled() { try c.app(name) }

        var seen: [String] = []
        var sizes: [Int] = []
        var cursor: String?
        repeat {
            var query = ["per_page": "30"]
            query["cursor"] = cursor
            let r = c.get("/v2/apps", query)
            #expect(r.status == 200)
            sizes.append(names(r).count)
            seen += names(r)
            cursor = r.json["next_cursor"]?.string
        } while cursor != nil && sizes.count < 10
        #expect(sizes == [30, 30, 15])
        #expect(seen == all)  // name order, no duplicates, no gaps
    }

    @Test func insertsBetweenPagesNeitherRepeatNorHide() throws {
        let c = try Client()
        for i in stride(from: 0, to: 60, by: 2) { try c.app(String(format: "app-%03d", i)) }  // 30 apps
        let first = c.get("/v2/apps", ["per_page": "10"])
        #expect(names(first).last == "app-018")
        // One before the cursor (not seen in this pass), one after (seen later).
        try c.app("app-001")
        try c.app("app-041")
        var seen = names(first)
        var cursor = first.json["next_cursor"]?.string
        while let next = cursor {
            let r = c.get("/v2/apps", ["per_page": "10", "cursor": next])
            seen += names(r)
            cursor = r.json["next_cursor"]?.string
        }
        #expect(Set(seen).count == seen.count)
        #expect(seen.count == 31)
        #expect(seen.contains("app-041"))
        #expect(seen == seen.sorted())
    }

    @Test func defaultAndMaximumPageSizes() throws {
        let store = try MetadataStore.inMemory()
        for i in 0..<120 { _ = try store.createApp(AppInput(name: "a\(1000 + i)")) }
        let c = try Client(store: store)
        #expect(names(c.get("/v2/apps")).count == 30)
        #expect(names(c.get("/v2/apps", ["per_page": "500"])).count == 100)
        #expect(names(c.get("/v2/apps", ["per_page": "99999999999999999999999"])).count == 100)
    }

    @Test func lastPageHasNoCursor() throws {
        let c = try Client()
        for i in 0..<30 { try c.app("a\(100 + i)") }
        let exact = c.get("/v2/apps", ["per_page": "30"])
        #expect(names(exact).count == 30)
        #expect(exact.json["next_cursor"] == nil)
        #expect(c.get("/v2/apps").json["next_cursor"] == nil)
    }

    @Test("Invalid per_page and cursor are 400", arguments: [
        ["per_page": "0"], ["per_page": "-3"], ["per_page": ""], ["per_page": "ten"], ["per_page": "1.5"], ["cursor": "not a cursor!"],
    ])
    func invalidParameters(query: [String: String]) throws {
        let c = try Client()
        let r = c.get("/v2/apps", query)
        #expect(r.status == 400)
        #expect(r.message.contains(query.keys.first!))
    }

    @Test func functionsAndTriggersPageToo() throws {
        let store = try MetadataStore.inMemory()
        let app = try store.createApp(AppInput(name: "shop"))
        for i in 0..<45 {
            let fn = try store.createFunction(FunctionInput(name: "fn\(100 + i)", appID: app.id, image: "i"))
            _ = try store.createTrigger(TriggerInput(name: "t\(100 + i)", appID: app.id, fnID: fn.id, type: "http", source: "/\(i)"))
        }
        var fnPage = try store.listFunctions(appID: app.id, perPage: 40)
        #expect(fnPage.items.count == 40)
        fnPage = try store.listFunctions(appID: app.id, cursor: fnPage.nextCursor, perPage: 40)
        #expect(fnPage.items.map(\.name) == (140..<145).map { "fn\($0)" })
        #expect(fnPage.nextCursor == nil)
        let triggers = try store.listTriggers(appID: app.id, perPage: 44)
        #expect(triggers.items.count == 44)
        #expect(try store.listTriggers(appID: app.id, cursor: triggers.nextCursor).items.map(\.name) == ["t144"])
    }

    @Test func cursorIsBase64URLOfTheLastName() throws {
        for name in ["a", "ab", "abc", "app-001", "Z_9", "ünï/+?"] {
            let cursor = Cursor.make(after: name)
            #expect(cursor.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            #expect(try Cursor.name(from: cursor) == name)
        }
        #expect(Cursor.make(after: "ab?>") == "YWI_Pg")
    }
}
