import CurlHTTP
import Foundation

/// A small client of fnrt's (and Fn's) v2 management API, for commands that
/// change functions on a running server (`fnrt tune --apply`).
struct ManagementClient {
    let base: URL
    let token: String?
    let transport = CurlTransport(connectTimeout: 5, stallTimeout: 30)

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends a request; the decoded JSON object of a 2xx answer, or the server's message in the error.
    func send(_ method: String, _ path: String, query: [String: String] = [:], body: [String: Any]? = nil) async throws -> [String: Any] {
        var components = URLComponents(url: base.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty { components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) } }
        var request = HTTPRequest(method: method, url: components.url!)
        if let token { request.setHeader("Authorization", "Bearer \(token)") }
        if let body {
            request.body = .data(try JSONSerialization.data(withJSONObject: body))
            request.setHeader("Content-Type", "application/json")
        }
        let sink = BufferSink(limit: 16 << 20)
        let head = try await transport.perform(request, sink: sink)
        let object = (try? JSONSerialization.jsonObject(with: sink.data)) as? [String: Any] ?? [:]
        guard (200..<300).contains(head.status) else {
            throw Failure(description: "\(method) \(path): \(head.status) \(object["message"] as? String ?? "")")
        }
        return object
    }

    /// The function `app/name`, or nil when the server has no such app or function.
    func function(app: String, name: String) async throws -> [String: Any]? {
        let apps = try await send("GET", "/v2/apps", query: ["name": app])["items"] as? [[String: Any]] ?? []
        guard let appID = apps.first(where: { $0["name"] as? String == app })?["id"] as? String else { return nil }
        let functions = try await send("GET", "/v2/fns", query: ["app_id": appID, "name": name])["items"] as? [[String: Any]] ?? []
        return functions.first { $0["name"] as? String == name }
    }
}
