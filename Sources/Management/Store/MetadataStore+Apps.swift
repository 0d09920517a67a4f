import GRDB

extension MetadataStore {
    public func app(id: String) throws -> App? {
        try read { db in try Self.fetchApp(db, id: id) }
    }

    public func app(named name: String) throws -> App? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM apps WHERE name = ?", arguments: [name]).map(App.init(row:))
        }
    }

    /// Apps in name order, optionally only the one called `name`.
    public func listApps(name: String? = nil, cursor: String? = nil, perPage: Int = Page<App>.defaultPerPage) throws -> Page<App> {
        try read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let name = name.nonEmpty {
                conditions.append("name = ?")
                arguments.append(name)
            }
            return try page(db, table: "apps", conditions: conditions, arguments: arguments,
                            cursor: cursor, perPage: perPage, decode: App.init(row:), name: \.name)
        }
    }

    /// Creates an app: `name` required and unique (409 otherwise).
    public func createApp(_ input: AppInput) throws -> App {
        if input.id.nonEmpty != nil {
            throw ManagementError.invalid("id", "App ID cannot be supplied on create")
        }
        let name = try Validate.name(input.name, resource: "app")
        let shape = input.shape.nonEmpty ?? App.defaultShape
        try Validate.shape(shape)
        let syslogURL = input.syslogURL.nonEmpty
        if let syslogURL { try Validate.syslogURL(syslogURL) }
        let annotations = input.annotations ?? [:]
        try Validate.annotations(annotations)
        try Validate.config(input.config ?? [:])
        let (id, now) = newID()
        let app = App(id: id, name: name, config: input.config ?? [:], annotations: annotations,
                      syslogURL: syslogURL, shape: shape, createdAt: now, updatedAt: now)
        return try write { db in
            if try Self.exists(db, "SELECT 1 FROM apps WHERE name = ?", [name]) {
                throw ManagementError(.conflict, field: "name", "App with name \"\(name)\" already exists")
            }
            try app.save(db, insert: true)
            return (app, [.app(id: app.id, deleted: false)])
        }
    }

    /// Updates an app as Fn does: config and annotations merge (empty values remove keys),
    /// `syslog_url` is replaced ("" removes it); `name` and `shape` can't change (409).
    public func updateApp(id: String, _ input: AppInput) throws -> App {
        try write { db in
            guard var app = try Self.fetchApp(db, id: id) else { throw ManagementError.appNotFound }
            if let given = input.id.nonEmpty, given != id {
                throw ManagementError.invalid("id", "App ID in path does not match ID in body")
            }
            if let name = input.name.nonEmpty, name != app.name {
                throw ManagementError(.conflict, field: "name", "Could not update - name is immutable")
            }
            if let shape = input.shape.nonEmpty, shape != app.shape {
                throw ManagementError(.conflict, field: "shape", "Could not update - shape is immutable")
            }
            let original = app
            try Validate.configPatch(input.config, onto: app.config)
            app.config = Merge.config(app.config, input.config)
            app.annotations = Merge.annotations(app.annotations, input.annotations)
            try Validate.annotations(app.annotations)
            if let syslogURL = input.syslogURL {
                if syslogURL.isEmpty {
                    app.syslogURL = nil
                } else {
                    try Validate.syslogURL(syslogURL)
                    app.syslogURL = syslogURL
                }
            }
            guard app != original else { return (app, []) }
            app.updatedAt = Timestamp.now()
            try app.save(db, insert: false)
            return (app, [.app(id: id, deleted: false)])
        }
    }

    /// Deletes an app with its functions and triggers, as Fn does.
    public func deleteApp(id: String) throws {
        try write { db in
            guard try Self.exists(db, "SELECT 1 FROM apps WHERE id = ?", [id]) else { throw ManagementError.appNotFound }
            let triggers = try String.fetchAll(db, sql: "SELECT id FROM triggers WHERE app_id = ?", arguments: [id])
            let functions = try String.fetchAll(db, sql: "SELECT id FROM fns WHERE app_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM apps WHERE id = ?", arguments: [id])  // cascades
            let changes = triggers.map { ManagementChange.trigger(id: $0, deleted: true) }
                + functions.map { ManagementChange.function(id: $0, deleted: true) }
                + [.app(id: id, deleted: true)]
            return ((), changes)
        }
    }

    static func fetchApp(_ db: Database, id: String) throws -> App? {
        try Row.fetchOne(db, sql: "SELECT * FROM apps WHERE id = ?", arguments: [id]).map(App.init(row:))
    }

    static func exists(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> Bool {
        try Row.fetchOne(db, sql: sql, arguments: arguments) != nil
    }
}
