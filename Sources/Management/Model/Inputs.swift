/// The fields of an app to create or update; nil is "not given".
/// In an update, a config key with an empty value is removed, and so is an
/// annotation whose value is `""` or `null`; an empty `syslogURL` removes it.
public struct AppInput: Sendable, Equatable {
    /// Only to be checked: refused on create, must match the path on update.
    public var id: String?
    public var name: String?
    public var config: [String: String]?
    public var annotations: [String: JSONValue]?
    public var syslogURL: String?
    public var shape: String?

    public init(id: String? = nil, name: String? = nil, config: [String: String]? = nil,
                annotations: [String: JSONValue]? = nil, syslogURL: String? = nil, shape: String? = nil) {
        self.id = id
        self.name = name
        self.config = config
        self.annotations = annotations
        self.syslogURL = syslogURL
        self.shape = shape
    }

    /// Parses Fn's JSON (`name`, `config`, `annotations`, `syslog_url`, `shape`).
    public init(json body: [UInt8]) throws {
        let r = try JSONObjectReader(body: body)
        self.init(id: try r.string("id"), name: try r.string("name"), config: try r.stringMap("config"),
                  annotations: try r.jsonMap("annotations"), syslogURL: try r.string("syslog_url"),
                  shape: try r.string("shape"))
    }
}

/// The fields of a function to create or update; nil (or, as in Fn, 0 for the
/// numbers and "" for the image) is "not given": the default on create, unchanged on update.
public struct FunctionInput: Sendable, Equatable {
    public var id: String?
    public var name: String?
    public var appID: String?
    public var image: String?
    public var memory: Int?
    public var timeout: Int?
    public var idleTimeout: Int?
    public var config: [String: String]?
    public var annotations: [String: JSONValue]?

    public init(id: String? = nil, name: String? = nil, appID: String? = nil, image: String? = nil,
                memory: Int? = nil, timeout: Int? = nil, idleTimeout: Int? = nil,
                config: [String: String]? = nil, annotations: [String: JSONValue]? = nil) {
        self.id = id
        self.name = name
        self.appID = appID
        self.image = image
        self.memory = memory
        self.timeout = timeout
        self.idleTimeout = idleTimeout
        self.config = config
        self.annotations = annotations
    }

    /// Parses Fn's JSON (`name`, `app_id`, `image`, `memory`, `timeout`, `idle_timeout`, `config`, `annotations`).
    public init(json body: [UInt8]) throws {
        let r = try JSONObjectReader(body: body)
        // fnrt's extension: `"idle_timeout": "auto"` turns on the adaptive
        // keep-alive, kept as an annotation so Fn clients still read an integer.
        let auto = r.object["idle_timeout"] == .string(Function.adaptiveIdleTimeout)
        var annotations = try r.jsonMap("annotations")
        if auto { annotations = (annotations ?? [:]).merging([Function.idleTimeoutAnnotation: .string(Function.adaptiveIdleTimeout)]) { $1 } }
        self.init(id: try r.string("id"), name: try r.string("name"), appID: try r.string("app_id"),
                  image: try r.string("image"), memory: try r.integer("memory"), timeout: try r.integer("timeout"),
                  idleTimeout: auto ? nil : try r.integer("idle_timeout"), config: try r.stringMap("config"),
                  annotations: annotations)
    }
}

/// The fields of a trigger to create or update; nil (or "") is "not given".
public struct TriggerInput: Sendable, Equatable {
    public var id: String?
    public var name: String?
    public var appID: String?
    public var fnID: String?
    public var type: String?
    public var source: String?
    public var annotations: [String: JSONValue]?

    public init(id: String? = nil, name: String? = nil, appID: String? = nil, fnID: String? = nil,
                type: String? = nil, source: String? = nil, annotations: [String: JSONValue]? = nil) {
        self.id = id
        self.name = name
        self.appID = appID
        self.fnID = fnID
        self.type = type
        self.source = source
        self.annotations = annotations
    }

    /// Parses Fn's JSON (`name`, `app_id`, `fn_id`, `type`, `source`, `annotations`).
    public init(json body: [UInt8]) throws {
        let r = try JSONObjectReader(body: body)
        self.init(id: try r.string("id"), name: try r.string("name"), appID: try r.string("app_id"),
                  fnID: try r.string("fn_id"), type: try r.string("type"), source: try r.string("source"),
                  annotations: try r.jsonMap("annotations"))
    }
}

extension Optional where Wrapped == String {
    /// Fn's "not given": nil or empty.
    var nonEmpty: String? {
        switch self {
        case .some(let s) where !s.isEmpty: s
        default: nil
        }
    }
}
