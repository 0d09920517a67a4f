import Foundation

/// A function: an image and its resource limits within an app (Fn's `Fn`).
public struct Function: Codable, Sendable, Equatable {
    public var id: String
    /// Unique within its app; letters, digits, `_` and `-`, at most 255 characters.
    public var name: String
    public var appID: String
    /// The container image reference, e.g. `localhost:5000/hello:1`.
    public var image: String
    /// Memory limit in MB.
    public var memory: Int
    /// Longest call, in seconds.
    public var timeout: Int
    /// How long a hot container waits for the next call before it stops, in seconds.
    public var idleTimeout: Int
    /// The function's own configuration (see `App.effectiveConfig(for:)` for what a call sees).
    public var config: [String: String]
    public var annotations: [String: JSONValue]
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, name: String, appID: String, image: String,
                memory: Int = Function.defaultMemory, timeout: Int = Function.defaultTimeout,
                idleTimeout: Int = Function.defaultIdleTimeout, config: [String: String] = [:],
                annotations: [String: JSONValue] = [:], createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.appID = appID
        self.image = image
        self.memory = memory
        self.timeout = timeout
        self.idleTimeout = idleTimeout
        self.config = config
        self.annotations = annotations
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    // Fn's defaults and limits.
    public static let defaultMemory = 128
    public static let maxMemory = 8 * 1024
    public static let defaultTimeout = 30
    public static let maxTimeout = 300
    public static let defaultIdleTimeout = 30
    public static let maxIdleTimeout = 3600
    /// The annotation that turns on the adaptive keep-alive (`"auto"`); set
    /// by `"idle_timeout": "auto"`, removed with `""`. `idle_timeout` stays
    /// Fn's integer, used until the policy has learned the function.
    public static let idleTimeoutAnnotation = "fnrt.io/idle_timeout"
    public static let adaptiveIdleTimeout = "auto"

    /// True when the function's keep-alive adapts to its calls (`idle_timeout: auto`).
    public var hasAdaptiveIdleTimeout: Bool { annotations[Function.idleTimeoutAnnotation] == .string(Function.adaptiveIdleTimeout) }

    /// The annotation that asks for containers kept hot at all times (OCI
    /// Functions' provisioned concurrency): a whole number, 0 to
    /// `maxProvisionedConcurrency`; Fn's API has no field for it.
    public static let provisionedConcurrencyAnnotation = "fnrt.io/provisioned_concurrency"
    public static let maxProvisionedConcurrency = 100

    /// The containers `fnrt serve` keeps hot for this function at all times (0: none).
    public var provisionedConcurrency: Int { Self.provisionedCount(annotations[Function.provisionedConcurrencyAnnotation]) ?? 0 }

    /// The annotation's value as a count of containers; nil unless a whole number from 0 to the maximum.
    static func provisionedCount(_ value: JSONValue?) -> Int? {
        guard case .number(let count)? = value, count >= 0, count <= Double(maxProvisionedConcurrency), count == count.rounded() else { return nil }
        return Int(count)
    }

    public static let maxNameLength = 255

    enum CodingKeys: String, CodingKey {
        case id, name, image, memory, timeout, config, annotations
        case appID = "app_id", idleTimeout = "idle_timeout", createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        appID = try c.decode(String.self, forKey: .appID)
        image = try c.decode(String.self, forKey: .image)
        memory = try c.decodeIfPresent(Int.self, forKey: .memory) ?? Function.defaultMemory
        timeout = try c.decodeIfPresent(Int.self, forKey: .timeout) ?? Function.defaultTimeout
        idleTimeout = try c.decodeIfPresent(Int.self, forKey: .idleTimeout) ?? Function.defaultIdleTimeout
        config = try c.decodeIfPresent([String: String].self, forKey: .config) ?? [:]
        annotations = try c.decodeIfPresent([String: JSONValue].self, forKey: .annotations) ?? [:]
        createdAt = try c.decodeTimestamp(forKey: .createdAt)
        updatedAt = try c.decodeTimestamp(forKey: .updatedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(appID, forKey: .appID)
        try c.encode(image, forKey: .image)
        try c.encode(memory, forKey: .memory)
        try c.encode(timeout, forKey: .timeout)
        try c.encode(idleTimeout, forKey: .idleTimeout)
        try c.encode(config, forKey: .config)
        try c.encode(annotations, forKey: .annotations)
        try c.encode(Timestamp.string(createdAt), forKey: .createdAt)
        try c.encode(Timestamp.string(updatedAt), forKey: .updatedAt)
    }
}
