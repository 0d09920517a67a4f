import Foundation
import TestSupport
import Testing
@testable import Management

/// Calls `ManagementAPI.handle` as the HTTP server does, with JSON in and out.
struct Client {
    let store: MetadataStore
    let api: ManagementAPI

    init(store: MetadataStore? = nil, baseURL: String? = nil) throws {
        self.store = try store ?? .inMemory()
        api = ManagementAPI(store: self.store, baseURL: baseURL)
    }

    struct Response {
        var status: Int
        var json: JSONValue
        var headers: [String: String]
        var message: String { json["message"]?.string ?? "" }
    }

    func call(_ method: String, _ path: String, _ query: [String: String] = [:], body: String? = nil) -> Response {
        let response = api.handle(method: method, path: path, query: query, body: Array((body ?? "").utf8))
        let json = response.body.isEmpty
            ? JSONValue.null
            : (try? JSONDecoder().decode(JSONValue.self, from: Data(response.body))) ?? .string("<not JSON>")
        return Response(status: response.status, json: json, headers: response.headers)
    }

    func post(_ path: String, _ body: String) -> Response { call("POST", path, body: body) }
    func put(_ path: String, _ body: String) -> Response { call("PUT", path, body: body) }
    func get(_ path: String, _ query: [String: String] = [:]) -> Response { call("GET", path, query) }
    func delete(_ path: String) -> Response { call("DELETE", path) }

    /// Creates an app and returns its id.
    @discardableResult
    func app(_ name: String, _ extra: String = "") throws -> String {
        let r = post("/v2/apps", #"{"name": "\#(name)"\#(extra)}"#)
        try #require(r.status == 200, "create app \(name): \(r.status) \(r.message)")
        return try #require(r.json["id"]?.string)
    }

    /// Creates a function and returns its id.
    @discardableResult
    func function(_ name: String, app: String, _ extra: String = "") throws -> String {
        let r = post("/v2/fns", #"{"name": "\#(name)", "app_id": "\#(app)", "image": "localhost:5000/\#(name):1"\#(extra)}"#)
        try #require(r.status == 200, "create fn \(name): \(r.status) \(r.message)")
        return try #require(r.json["id"]?.string)
    }

    /// Creates an HTTP trigger and returns its id.
    @discardableResult
    func trigger(_ name: String, app: String, fn: String, source: String) throws -> String {
        let r = post("/v2/triggers", #"{"name": "\#(name)", "app_id": "\#(app)", "fn_id": "\#(fn)", "type": "http", "source": "\#(source)"}"#)
        try #require(r.status == 200, "create trigger \(name): \(r.status) \(r.message)")
        return try #require(r.json["id"]?.string)
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var int: Int? {
        if case .number(let n) = self { return Int(exactly: n) }
        return nil
    }

    var array: [JSONValue] {
        if case .array(let a) = self { return a }
        return []
    }

    var object: [String: JSONValue] {
        if case .object(let o) = self { return o }
        return [:]
    }
}

/// A fresh directory under the system's temporary directory, removed by `cleanUp`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = Scratch.path("management")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
