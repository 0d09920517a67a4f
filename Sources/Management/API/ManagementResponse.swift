import Foundation

/// What `ManagementAPI.handle` answers: a status, a JSON body (empty for 204) and headers to send.
public struct ManagementResponse: Sendable, Equatable {
    public var status: Int
    /// JSON; empty for 204.
    public var body: [UInt8]
    /// `Content-Type` when there is a body, `Allow` on 405.
    public var headers: [String: String]

    public init(status: Int, body: [UInt8], headers: [String: String] = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    static func json<T: Encodable>(_ status: Int, _ value: T) -> ManagementResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return ManagementResponse(status: status, body: Array(try encoder.encode(value)),
                                      headers: ["Content-Type": "application/json"])
        } catch {
            return message(500, "Could not encode the response: \(error)")
        }
    }

    /// Fn's error body: `{"message": "..."}`.
    static func message(_ status: Int, _ text: String) -> ManagementResponse {
        json(status, ["message": text])
    }

    static func error(_ error: any Error) -> ManagementResponse {
        if let error = error as? ManagementError {
            return message(error.status, error.message)
        }
        return message(500, "Internal server error: \(error)")
    }

    static let noContent = ManagementResponse(status: 204, body: [])

    static func methodNotAllowed(_ allowed: [String]) -> ManagementResponse {
        var response = message(405, "Method not allowed; use \(allowed.joined(separator: ", "))")
        response.headers["Allow"] = allowed.joined(separator: ", ")
        return response
    }
}
