import Foundation

/// Fn's v2 management API over a `MetadataStore`, independent of any HTTP server:
/// the server passes the method, path, decoded query and body, and sends back the response.
///
/// Routes: `/v2/apps`, `/v2/apps/{appID}`, `/v2/fns`, `/v2/fns/{fnID}`, `/v2/triggers`,
/// `/v2/triggers/{triggerID}` (GET/POST on collections, GET/PUT/DELETE on items) and
/// `GET /v2/openapi.json`. Creates answer 200 with the resource (as Fn), deletes 204.
public struct ManagementAPI: Sendable {
    public let store: MetadataStore
    /// Where this server is reached (e.g. `http://localhost:8080`). When set, functions get
    /// Fn's `fnproject.io/fn/invokeEndpoint` annotation and HTTP triggers
    /// `fnproject.io/trigger/httpEndpoint`, which the Fn CLI uses; they are not stored.
    public var baseURL: String?

    public init(store: MetadataStore, baseURL: String? = nil) {
        self.store = store
        self.baseURL = baseURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    /// `path` is the request path from `/v2/` on (e.g. "/v2/apps/01H..."), without the query string
    /// (its segments may still be percent-encoded); `query` the decoded query items.
    public func handle(method: String, path: String, query: [String: String], body: [UInt8]) -> ManagementResponse {
        let segments = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        guard segments.first == "v2" else { return .message(404, "Path not found") }
        let method = method.uppercased()
        do {
            switch Array(segments.dropFirst()) {
            case ["apps"]:
                switch method {
                case "GET": return .json(200, try listApps(query))
                case "POST": return .json(200, try store.createApp(AppInput(json: body)))
                default: return .methodNotAllowed(["GET", "POST"])
                }
            case let s where s.count == 2 && s[0] == "apps":
                switch method {
                case "GET":
                    guard let app = try store.app(id: s[1]) else { throw ManagementError.appNotFound }
                    return .json(200, app)
                case "PUT": return .json(200, try store.updateApp(id: s[1], AppInput(json: body)))
                case "DELETE":
                    try store.deleteApp(id: s[1])
                    return .noContent
                default: return .methodNotAllowed(["GET", "PUT", "DELETE"])
                }
            case ["fns"]:
                switch method {
                case "GET": return .json(200, try listFunctions(query))
                case "POST": return .json(200, try annotated(store.createFunction(FunctionInput(json: body))))
                default: return .methodNotAllowed(["GET", "POST"])
                }
            case let s where s.count == 2 && s[0] == "fns":
                switch method {
                case "GET":
                    guard let function = try store.function(id: s[1]) else { throw ManagementError.fnNotFound }
                    return .json(200, annotated(function))
                case "PUT": return .json(200, try annotated(store.updateFunction(id: s[1], FunctionInput(json: body))))
                case "DELETE":
                    try store.deleteFunction(id: s[1])
                    return .noContent
                default: return .methodNotAllowed(["GET", "PUT", "DELETE"])
                }
            case ["triggers"]:
                switch method {
                case "GET": return .json(200, try listTriggers(query))
                case "POST": return .json(200, try annotated(store.createTrigger(TriggerInput(json: body))))
                default: return .methodNotAllowed(["GET", "POST"])
                }
            case let s where s.count == 2 && s[0] == "triggers":
                switch method {
                case "GET":
                    guard let trigger = try store.trigger(id: s[1]) else { throw ManagementError.triggerNotFound }
                    return .json(200, try annotated(trigger))
                case "PUT": return .json(200, try annotated(store.updateTrigger(id: s[1], TriggerInput(json: body))))
                case "DELETE":
                    try store.deleteTrigger(id: s[1])
                    return .noContent
                default: return .methodNotAllowed(["GET", "PUT", "DELETE"])
                }
            case ["openapi.json"]:
                guard method == "GET" else { return .methodNotAllowed(["GET"]) }
                return ManagementResponse(status: 200, body: Array(ManagementOpenAPI.json.utf8),
                                          headers: ["Content-Type": "application/json"])
            default:
                return .message(404, "Path not found")
            }
        } catch {
            return .error(error)
        }
    }

    private func listApps(_ query: [String: String]) throws -> Page<App> {
        try store.listApps(name: query["name"], cursor: query["cursor"], perPage: try Self.perPage(query))
    }

    private func listFunctions(_ query: [String: String]) throws -> Page<Function> {
        let appID = try Self.required("app_id", query)
        var page = try store.listFunctions(appID: appID, name: query["name"], cursor: query["cursor"],
                                           perPage: try Self.perPage(query))
        page.items = page.items.map(annotated)
        return page
    }

    private func listTriggers(_ query: [String: String]) throws -> Page<Trigger> {
        let appID = try Self.required("app_id", query)
        var page = try store.listTriggers(appID: appID, fnID: query["fn_id"], name: query["name"],
                                          cursor: query["cursor"], perPage: try Self.perPage(query))
        page.items = try page.items.map(annotated)
        return page
    }

    private static func required(_ name: String, _ query: [String: String]) throws -> String {
        guard let value = query[name], !value.isEmpty else {
            throw ManagementError.invalid(name, "Missing \(name) query parameter")
        }
        return value
    }

    /// `per_page`: 30 by default; a positive integer, capped at 100 as in Fn.
    private static func perPage(_ query: [String: String]) throws -> Int {
        guard let raw = query["per_page"] else { return Page<App>.defaultPerPage }
        let digits = raw.hasPrefix("+") ? raw.dropFirst() : raw[...]
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              digits.contains(where: { $0 != "0" })
        else {
            throw ManagementError.invalid(
                "per_page", "Invalid per_page \"\(raw.prefix(32))\": per_page must be a positive integer")
        }
        return min(Int(digits) ?? Page<App>.maxPerPage, Page<App>.maxPerPage)
    }

    private func annotated(_ function: Function) -> Function {
        guard let baseURL else { return function }
        var function = function
        function.annotations["fnproject.io/fn/invokeEndpoint"] = .string("\(baseURL)/invoke/\(function.id)")
        return function
    }

    private func annotated(_ trigger: Trigger) throws -> Trigger {
        guard let baseURL, trigger.type == Trigger.httpType, let app = try store.app(id: trigger.appID) else {
            return trigger
        }
        var trigger = trigger
        trigger.annotations["fnproject.io/trigger/httpEndpoint"] = .string("\(baseURL)/t/\(app.name)\(trigger.source)")
        return trigger
    }
}
