import GRDB

extension MetadataStore {
    public func trigger(id: String) throws -> Trigger? {
        try read { db in try Self.fetchTrigger(db, id: id) }
    }

    /// An app's triggers in name order, optionally only a function's, or the one called `name`.
    public func listTriggers(appID: String, fnID: String? = nil, name: String? = nil, cursor: String? = nil,
                             perPage: Int = Page<Trigger>.defaultPerPage) throws -> Page<Trigger> {
        try read { db in
            var conditions = ["app_id = ?"]
            var arguments: [any DatabaseValueConvertible] = [appID]
            if let fnID = fnID.nonEmpty {
                conditions.append("fn_id = ?")
                arguments.append(fnID)
            }
            if let name = name.nonEmpty {
                conditions.append("name = ?")
                arguments.append(name)
            }
            return try page(db, table: "triggers", conditions: conditions, arguments: arguments,
                            cursor: cursor, perPage: perPage, decode: Trigger.init(row:), name: \.name)
        }
    }

    /// Creates a trigger: `name`, `app_id`, `fn_id` (a function of that app), `type` (`http`)
    /// and `source` (a path starting with `/`) required; name and source unique within the app (409).
    public func createTrigger(_ input: TriggerInput) throws -> Trigger {
        if input.id.nonEmpty != nil {
            throw ManagementError.invalid("id", "ID cannot be provided for Trigger creation")
        }
        guard let appID = input.appID.nonEmpty else {
            throw ManagementError.invalid("app_id", "Missing app_id on Trigger")
        }
        let name = try Validate.name(input.name, resource: "Trigger")
        guard let fnID = input.fnID.nonEmpty else {
            throw ManagementError.invalid("fn_id", "Missing fn_id on Trigger")
        }
        let type = try Validate.triggerType(input.type)
        let source = try Validate.source(input.source)
        let annotations = input.annotations ?? [:]
        try Validate.annotations(annotations)
        let (id, now) = newID()
        let trigger = Trigger(id: id, name: name, appID: appID, fnID: fnID, type: type, source: source,
                              annotations: annotations, createdAt: now, updatedAt: now)
        return try write { db in
            guard try Self.exists(db, "SELECT 1 FROM apps WHERE id = ?", [appID]) else {
                throw ManagementError.appNotFound
            }
            try Self.checkFunction(db, fnID, in: appID)
            try Self.checkUnique(db, trigger, excluding: nil)
            try trigger.save(db, insert: true)
            return (trigger, [.trigger(id: id, deleted: false)])
        }
    }

    /// Updates a trigger as Fn does: `name`, `fn_id` (of the same app) and `source` may change,
    /// annotations merge (`""`/`null` values remove keys); `app_id` can't change (400).
    public func updateTrigger(id: String, _ input: TriggerInput) throws -> Trigger {
        try write { db in
            guard var trigger = try Self.fetchTrigger(db, id: id) else { throw ManagementError.triggerNotFound }
            if let given = input.id.nonEmpty, given != id {
                throw ManagementError.invalid("id", "ID in path does not match ID in body")
            }
            if let appID = input.appID.nonEmpty, appID != trigger.appID {
                throw ManagementError.invalid("app_id", "Could not update - Trigger app_id is immutable")
            }
            let original = trigger
            if let name = input.name.nonEmpty { trigger.name = try Validate.name(name, resource: "Trigger") }
            if let type = input.type.nonEmpty { trigger.type = try Validate.triggerType(type) }
            if let source = input.source.nonEmpty { trigger.source = try Validate.source(source) }
            trigger.annotations = Merge.annotations(trigger.annotations, input.annotations)
            try Validate.annotations(trigger.annotations)
            if let fnID = input.fnID.nonEmpty, fnID != trigger.fnID {
                try Self.checkFunction(db, fnID, in: trigger.appID)
                trigger.fnID = fnID
            }
            guard trigger != original else { return (trigger, []) }
            try Self.checkUnique(db, trigger, excluding: id)
            trigger.updatedAt = Timestamp.now()
            try trigger.save(db, insert: false)
            return (trigger, [.trigger(id: id, deleted: false)])
        }
    }

    public func deleteTrigger(id: String) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM triggers WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else { throw ManagementError.triggerNotFound }
            return ((), [.trigger(id: id, deleted: true)])
        }
    }

    static func fetchTrigger(_ db: Database, id: String) throws -> Trigger? {
        try Row.fetchOne(db, sql: "SELECT * FROM triggers WHERE id = ?", arguments: [id]).map(Trigger.init(row:))
    }

    private static func checkFunction(_ db: Database, _ fnID: String, in appID: String) throws {
        guard let owner = try String.fetchOne(db, sql: "SELECT app_id FROM fns WHERE id = ?", arguments: [fnID]) else {
            throw ManagementError.fnNotFound
        }
        // Fn answers 400 here; an ID that names no function of this app is an unknown ID to us.
        guard owner == appID else {
            throw ManagementError(.notFound, field: "fn_id", "Fn not found in this app: fn_id names a function of another app")
        }
    }

    private static func checkUnique(_ db: Database, _ trigger: Trigger, excluding id: String?) throws {
        let other = id ?? ""
        if try exists(db, "SELECT 1 FROM triggers WHERE app_id = ? AND name = ? AND id != ?",
                      [trigger.appID, trigger.name, other]) {
            throw ManagementError(.conflict, field: "name", "Trigger with name \"\(trigger.name)\" already exists in this app")
        }
        if try exists(db, "SELECT 1 FROM triggers WHERE app_id = ? AND type = ? AND source = ? AND id != ?",
                      [trigger.appID, trigger.type, trigger.source, other]) {
            throw ManagementError(.conflict, field: "source", "Trigger with the same type and source exists on this app")
        }
    }
}
