import Foundation

/// An application: a named group of functions sharing configuration (Fn's `App`).
public struct App: Codable, Sendable, Equatable {
    public var id: String
    /// Unique among apps; letters, digits, `_` and `-`, at most 255 characters.
    public var name: String
    /// Configuration passed to every function of the app (a function's own keys win).
    public var config: [String: String]
    public var annotations: [String: JSONValue]
    /// Comma-separated syslog URLs for the functions' logs.
    public var syslogURL: String?
    /// The processor shape: `GENERIC_X86` (default), `GENERIC_ARM` or `GENERIC_X86_ARM`.
    public var shape: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, name: String, config: [String: String] = [:], annotations: [String: JSONValue] = [:],
                syslogURL: String? = nil, shape: String = App.defaultShape, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.config = config
        self.annotations = annotations
        self.syslogURL = syslogURL
        self.shape = shape
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public static let defaultShape = "GENERIC_X86"
    public static let shapes = ["GENERIC_X86", "GENERIC_ARM", "GENERIC_X86_ARM"]
    public static let maxNameLength = 255

    /// The configuration a call of `function` sees: the app's, overridden by the function's.
    public func effectiveConfig(for function: Function) -> [String: String] {
        config.merging(function.config) { _, own in own }
    }

    enum CodingKeys: String, CodingKey {
        case id, name, config, annotations, shape
        case syslogURL = "syslog_url", createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        config = try c.decodeIfPresent([String: String].self, forKey: .config) ?? [:]
        annotations = try c.decodeIfPresent([String: JSONValue].self, forKey: .annotations) ?? [:]
        syslogURL = try c.decodeIfPresent(String.self, forKey: .syslogURL)
        shape = try c.decodeIfPresent(String.self, forKey: .shape) ?? App.defaultShape
        createdAt = try c.decodeTimestamp(forKey: .createdAt)
        updatedAt = try c.decodeTimestamp(forKey: .updatedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(config, forKey: .config)
        try c.encode(annotations, forKey: .annotations)
        try c.encodeIfPresent(syslogURL, forKey: .syslogURL)
        try c.encode(shape, forKey: .shape)
        try c.encode(Timestamp.string(createdAt), forKey: .createdAt)
        try c.encode(Timestamp.string(updatedAt), forKey: .updatedAt)
    }
}

extension KeyedDecodingContainer {
    /// An RFC 3339 timestamp written as a string, whatever the decoder's date strategy.
    func decodeTimestamp(forKey key: Key) throws -> Date {
        let text = try decode(String.self, forKey: key)
        guard let date = Timestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not an RFC 3339 timestamp: \(text)")
        }
        return date
    }
}
