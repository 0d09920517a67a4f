import Foundation

/// A trigger: binds an event source to a function. Only `http` triggers exist,
/// reached at `/t/{app name}{source}`.
public struct Trigger: Codable, Sendable, Equatable {
    public var id: String
    /// Unique within its app; letters, digits, `_` and `-`, at most 255 characters.
    public var name: String
    public var appID: String
    public var fnID: String
    /// The trigger type; always `http`.
    public var type: String
    /// The path under `/t/{app name}`, starting with `/`; unique within the app.
    public var source: String
    public var annotations: [String: JSONValue]
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, name: String, appID: String, fnID: String, type: String = Trigger.httpType,
                source: String, annotations: [String: JSONValue] = [:], createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.appID = appID
        self.fnID = fnID
        self.type = type
        self.source = source
        self.annotations = annotations
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public static let httpType = "http"
    public static let types = [httpType]
    public static let maxNameLength = 255
    public static let maxSourceLength = 1024

    enum CodingKeys: String, CodingKey {
        case id, name, type, source, annotations
        case appID = "app_id", fnID = "fn_id", createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        appID = try c.decode(String.self, forKey: .appID)
        fnID = try c.decode(String.self, forKey: .fnID)
        type = try c.decode(String.self, forKey: .type)
        source = try c.decode(String.self, forKey: .source)
        annotations = try c.decodeIfPresent([String: JSONValue].self, forKey: .annotations) ?? [:]
        createdAt = try c.decodeTimestamp(forKey: .createdAt)
        updatedAt = try c.decodeTimestamp(forKey: .updatedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(appID, forKey: .appID)
        try c.encode(fnID, forKey: .fnID)
        try c.encode(type, forKey: .type)
        try c.encode(source, forKey: .source)
        try c.encode(annotations, forKey: .annotations)
        try c.encode(Timestamp.string(createdAt), forKey: .createdAt)
        try c.encode(Timestamp.string(updatedAt), forKey: .updatedAt)
    }
}
