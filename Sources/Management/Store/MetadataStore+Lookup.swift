import GRDB

extension MetadataStore {
    /// Resolves how gateway specs name a function: its ID, or "app/function" (names).
    public func resolveFunction(_ reference: String) throws -> (App, Function)? {
        try read { db in
            let function: Function?
            let scalars = reference.unicodeScalars
            if let slash = scalars.firstIndex(of: "/") {
                let appName = String(scalars[..<slash])
                let fnName = String(scalars[scalars.index(after: slash)...])
                function = try Row.fetchOne(
                    db, sql: "SELECT fns.* FROM fns JOIN apps ON apps.id = fns.app_id WHERE apps.name = ? AND fns.name = ?",
                    arguments: [appName, fnName]
                ).map(Function.init(row:))
            } else {
                function = try Self.fetchFunction(db, id: reference)
            }
            guard let function, let app = try Self.fetchApp(db, id: function.appID) else { return nil }
            return (app, function)
        }
    }

    /// The HTTP trigger of the app called `app` whose source is `source` (with or
    /// without its leading `/`): what `/t/{app}/{source...}` calls.
    public func httpTrigger(app: String, source: String) throws -> (App, Function, Trigger)? {
        let path = source.unicodeScalars.first == "/" ? source : "/" + source
        return try read { db in
            guard let appRow = try Row.fetchOne(db, sql: "SELECT * FROM apps WHERE name = ?", arguments: [app]) else {
                return nil
            }
            let app = try App(row: appRow)
            guard let trigger = try Row.fetchOne(
                db, sql: "SELECT * FROM triggers WHERE app_id = ? AND type = ? AND source = ?",
                arguments: [app.id, Trigger.httpType, path]
            ).map(Trigger.init(row:)),
                let function = try Self.fetchFunction(db, id: trigger.fnID)
            else { return nil }
            return (app, function, trigger)
        }
    }
}
