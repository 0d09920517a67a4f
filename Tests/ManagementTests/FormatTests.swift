import Foundation
import Testing
@testable import Management

@Suite("Formats")
struct FormatTests {
    @Test("Timestamps are RFC 3339 UTC with milliseconds", arguments: [
        (0, "1970-01-01T00:00:00.000Z"),
        (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
    ])
    func timestamps(milliseconds: Int64, text: String) {
        let date = Timestamp.date(milliseconds: milliseconds)
        #expect(Timestamp.string(date) == text)
        #expect(Timestamp.parse(text) == date)
    }

    @Test func timestampParsingAcceptsOffsetsAndRefusesJunk() {
        #expect(Timestamp.parse("2023-11-14T23:13:20.123+01:00") == Timestamp.date(milliseconds: 1_700_000_000_123))
        #expect(Timestamp.parse("2023-11-14T22:13:20Z") == Timestamp.date(milliseconds: 1_700_000_000_000))
        for junk in ["", "2023-11-14", "2023-13-14T22:13:20Z", "2023-11-14T22:13:20", "2023-11-14T22:13:20.Z", "x023-11-14T22:13:20Z"] {
            #expect(Timestamp.parse(junk) == nil, "\(junk)")
        }
    }

    @Test func idsAreTimeOrderedULIDs() {
        let ids = (0..<1000).map { _ in ULID.make(milliseconds: 1_700_000_000_000) }
        #expect(ids.allSatisfy(ULID.isValid))
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        let later = ULID.make(milliseconds: 1_700_000_000_001)
        #expect(later > ids.last!)
        #expect(ULID.encode(UInt128(1_700_000_000_000) << 80).hasPrefix("01HF7YAT00"))
        #expect(ULID.encode(.max) == "7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
        // A clock stepping back doesn't break the order.
        #expect(ULID.make(milliseconds: 1_600_000_000_000) > later)
    }

    @Test func modelsEncodeWithFnsFieldNames() throws {
        let store = try MetadataStore.inMemory()
        let app = try store.createApp(AppInput(name: "shop"))
        let fn = try store.createFunction(FunctionInput(name: "f", appID: app.id, image: "i"))
        let trigger = try store.createTrigger(TriggerInput(name: "t", appID: app.id, fnID: fn.id, type: "http", source: "/t"))
        func keys<T: Encodable>(_ value: T) throws -> Set<String> {
            Set(try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value)).object.keys)
        }
        #expect(try keys(app) == ["id", "name", "config", "annotations", "shape", "created_at", "updated_at"])
        #expect(try keys(fn) == ["id", "name", "app_id", "image", "memory", "timeout", "idle_timeout", "config", "annotations", "created_at", "updated_at"])
        #expect(try keys(trigger) == ["id", "name", "app_id", "fn_id", "type", "source", "annotations", "created_at", "updated_at"])
        let json = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(fn))
        #expect(json["created_at"]?.string == Timestamp.string(fn.createdAt))
        #expect(json["created_at"]?.string?.hasSuffix("Z") == true)
        // Round trip, whatever the decoder's date strategy.
        #expect(try JSONDecoder().decode(App.self, from: JSONEncoder().encode(app)) == app)
        #expect(try JSONDecoder().decode(Function.self, from: JSONEncoder().encode(fn)) == fn)
        #expect(try JSONDecoder().decode(Trigger.self, from: JSONEncoder().encode(trigger)) == trigger)
    }

    @Test func annotationValuesKeepTheirJSON() throws {
        let text = #"{"s":"x","i":42,"f":1.5,"b":false,"a":[1,"2"],"o":{"k":null}}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(value), as: UTF8.self) == #"{"a":[1,"2"],"b":false,"f":1.5,"i":42,"o":{"k":null},"s":"x"}"#)
    }
}
