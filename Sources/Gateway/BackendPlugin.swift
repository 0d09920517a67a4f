/// A JSON value as it appears in a deployment spec, for the parts a plugin reads itself.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}

/// One problem in a deployment spec, at its JSON path (`routes[3].backend.functionId`).
public struct SpecProblem: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// A spec refused: every problem found, not only the first.
public struct SpecValidationError: Error, Sendable, CustomStringConvertible {
    public var problems: [SpecProblem]

    public init(problems: [SpecProblem]) {
        self.problems = problems
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Builds the backends of one spec `type` (`ORACLE_FUNCTIONS_BACKEND`, ...).
/// The gateway holds one plugin per type; the runtime's function backend is
/// one, registered by whoever assembles the gateway.
public protocol BackendPlugin: Sendable {
    /// The spec's backend `type` this plugin builds.
    var type: String { get }
    /// Checks `backend` (the whole backend object of the spec, `type`
    /// included) and builds the backend, or throws `SpecValidationError`
    /// with paths under `path` (e.g. `routes[0].backend.functionId`).
    func makeBackend(_ backend: JSONValue, path: String) async throws -> any GatewayBackend
}
