import GRDB

extension MetadataStore {
    public func function(id: String) throws -> Function? {
        try read { db in try Self.fetchFunction(db, id: id) }
    }

    /// The function called `name` in the app called `app`.
    public func function(app: String, name: String) throws -> Function? {
        try read { db in
            try Row.fetchOne(
                db, sql: "SELECT fns.* FROM fns JOIN apps ON apps.id = fns.app_id WHERE apps.name = ? AND fns.name = ?",
                arguments: [app, name]
            ).map(Function.init(row:))
        }
    }

    /// Every function that asks for containers kept hot (`provisionedConcurrency` over 0).
    public func provisionedFunctions() throws -> [Function] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM fns").map(Function.init(row:)).filter { $0.provisionedConcurrency > 0 }
        }
    }

    /// An app's functions in name order, optionally only the one called `name`.
    public func listFunctions(appID: String, name: String? = nil, cursor: String? = nil,
                              perPage: Int = Page<Function>.defaultPerPage) throws -> Page<Function> {
        try read { db in
            var conditions = ["app_id = ?"]
            var arguments: [any DatabaseValueConvertible] = [appID]
            if let name = name.nonEmpty {
                conditions.append("name = ?")
                arguments.append(name)
            }
            return try page(db, table: "fns", conditions: conditions, arguments: arguments,
                            cursor: cursor, perPage: perPage, decode: Function.init(row:), name: \.name)
        }
    }

    /// Creates a function: `name`, `app_id` and `image` required; the name unique within the app (409).
    public func createFunction(_ input: FunctionInput) throws -> Function {
        if input.id.nonEmpty != nil {
            throw ManagementError.invalid("id", "ID cannot be provided for Fn creation")
        }
        let name = try Validate.name(input.name, resource: "Fn")
        guard let appID = input.appID.nonEmpty else {
            throw ManagementError.invalid("app_id", "Missing app_id on Fn")
        }
        guard let image = input.image.nonEmpty else {
            throw ManagementError.invalid("image", "Missing image on Fn")
        }
        let memory = try Self.given(input.memory, default: Function.defaultMemory, Validate.memory)
        let timeout = try Self.given(input.timeout, default: Function.defaultTimeout, Validate.timeout)
        let idleTimeout = try Self.given(input.idleTimeout, default: Function.defaultIdleTimeout, Validate.idleTimeout)
        let annotations = input.annotations ?? [:]
        try Validate.functionAnnotations(annotations)
        try Validate.config(input.config ?? [:])
        let (id, now) = newID()
        let function = Function(id: id, name: name, appID: appID, image: image, memory: memory, timeout: timeout,
                                idleTimeout: idleTimeout, config: input.config ?? [:], annotations: annotations,
                                createdAt: now, updatedAt: now)
        return try write { db in
            guard try Self.exists(db, "SELECT 1 FROM apps WHERE id = ?", [appID]) else {
                throw ManagementError.appNotFound
            }
            if try Self.exists(db, "SELECT 1 FROM fns WHERE app_id = ? AND name = ?", [appID, name]) {
                throw ManagementError(.conflict, field: "name", "Fn with name \"\(name)\" already exists in this app")
            }
            try function.save(db, insert: true)
            return (function, [.function(id: id, deleted: false)])
        }
    }

    /// Updates a function as Fn does: given fields replace, config and annotations merge
    /// (empty values remove keys); `name` and `app_id` can't change (400).
    public func updateFunction(id: String, _ input: FunctionInput) throws -> Function {
        try write { db in
            guard var function = try Self.fetchFunction(db, id: id) else { throw ManagementError.fnNotFound }
            if let given = input.id.nonEmpty, given != id {
                throw ManagementError.invalid("id", "Fn ID in path does not match that in body")
            }
            if let name = input.name.nonEmpty, name != function.name {
                throw ManagementError.invalid("name", "Could not update - Fn name is immutable")
            }
            if let appID = input.appID.nonEmpty, appID != function.appID {
                throw ManagementError.invalid("app_id", "Could not update - Fn app_id is immutable")
            }
            let original = function
            if let image = input.image.nonEmpty { function.image = image }
            function.memory = try Self.given(input.memory, default: function.memory, Validate.memory)
            function.timeout = try Self.given(input.timeout, default: function.timeout, Validate.timeout)
            function.idleTimeout = try Self.given(input.idleTimeout, default: function.idleTimeout, Validate.idleTimeout)
            try Validate.configPatch(input.config, onto: function.config)
            function.config = Merge.config(function.config, input.config)
            function.annotations = Merge.annotations(function.annotations, input.annotations)
            try Validate.functionAnnotations(function.annotations)
            guard function != original else { return (function, []) }
            function.updatedAt = Timestamp.now()
            try function.save(db, insert: false)
            return (function, [.function(id: id, deleted: false)])
        }
    }

    /// Deletes a function and its triggers.
    public func deleteFunction(id: String) throws {
        try write { db in
            guard try Self.exists(db, "SELECT 1 FROM fns WHERE id = ?", [id]) else { throw ManagementError.fnNotFound }
            let triggers = try String.fetchAll(db, sql: "SELECT id FROM triggers WHERE fn_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM fns WHERE id = ?", arguments: [id])  // cascades
            let changes = triggers.map { ManagementChange.trigger(id: $0, deleted: true) }
                + [.function(id: id, deleted: true)]
            return ((), changes)
        }
    }

    static func fetchFunction(_ db: Database, id: String) throws -> Function? {
        try Row.fetchOne(db, sql: "SELECT * FROM fns WHERE id = ?", arguments: [id]).map(Function.init(row:))
    }

    /// Fn's numeric fields: nil or 0 means "not given".
    private static func given(_ value: Int?, default fallback: Int, _ validate: (Int) throws -> Void) throws -> Int {
        guard let value, value != 0 else { return fallback }
        try validate(value)
        return value
    }
}
