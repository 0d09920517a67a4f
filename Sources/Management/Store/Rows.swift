import Foundation
import GRDB

/// Conversions between table rows and the models.
enum JSONColumn {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

extension App {
    init(row: Row) throws {
        self.init(
            id: row["id"], name: row["name"],
            config: try JSONColumn.decode([String: String].self, row["config"]),
            annotations: try JSONColumn.decode([String: JSONValue].self, row["annotations"]),
            syslogURL: row["syslog_url"], shape: row["shape"],
            createdAt: Timestamp.date(milliseconds: row["created_at"]),
            updatedAt: Timestamp.date(milliseconds: row["updated_at"]))
    }

    func save(_ db: Database, insert: Bool) throws {
        let arguments: StatementArguments = [
            id, name, try JSONColumn.encode(config), try JSONColumn.encode(annotations), syslogURL, shape,
            Timestamp.milliseconds(createdAt), Timestamp.milliseconds(updatedAt),
        ]
        try db.execute(sql: insert
            ? "INSERT INTO apps (id, name, config, annotations, syslog_url, shape, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            : "UPDATE apps SET name = ?2, config = ?3, annotations = ?4, syslog_url = ?5, shape = ?6, created_at = ?7, updated_at = ?8 WHERE id = ?1",
            arguments: arguments)
    }
}

extension Function {
    init(row: Row) throws {
        self.init(
            id: row["id"], name: row["name"], appID: row["app_id"], image: row["image"],
            memory: row["memory"], timeout: row["timeout"], idleTimeout: row["idle_timeout"],
            config: try JSONColumn.decode([String: String].self, row["config"]),
            annotations: try JSONColumn.decode([String: JSONValue].self, row["annotations"]),
            createdAt: Timestamp.date(milliseconds: row["created_at"]),
            updatedAt: Timestamp.date(milliseconds: row["updated_at"]))
    }

    func save(_ db: Database, insert: Bool) throws {
        let arguments: StatementArguments = [
            id, appID, name, image, memory, timeout, idleTimeout,
            try JSONColumn.encode(config), try JSONColumn.encode(annotations),
            Timestamp.milliseconds(createdAt), Timestamp.milliseconds(updatedAt),
        ]
        try db.execute(sql: insert
            ? "INSERT INTO fns (id, app_id, name, image, memory, timeout, idle_timeout, config, annotations, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            : "UPDATE fns SET app_id = ?2, name = ?3, image = ?4, memory = ?5, timeout = ?6, idle_timeout = ?7, config = ?8, annotations = ?9, created_at = ?10, updated_at = ?11 WHERE id = ?1",
            arguments: arguments)
    }
}

extension Trigger {
    init(row: Row) throws {
        self.init(
            id: row["id"], name: row["name"], appID: row["app_id"], fnID: row["fn_id"],
            type: row["type"], source: row["source"],
            annotations: try JSONColumn.decode([String: JSONValue].self, row["annotations"]),
            createdAt: Timestamp.date(milliseconds: row["created_at"]),
            updatedAt: Timestamp.date(milliseconds: row["updated_at"]))
    }

    func save(_ db: Database, insert: Bool) throws {
        let arguments: StatementArguments = [
            id, appID, fnID, name, type, source, try JSONColumn.encode(annotations),
            Timestamp.milliseconds(createdAt), Timestamp.milliseconds(updatedAt),
        ]
        try db.execute(sql: insert
            ? "INSERT INTO triggers (id, app_id, fn_id, name, type, source, annotations, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            : "UPDATE triggers SET app_id = ?2, fn_id = ?3, name = ?4, type = ?5, source = ?6, annotations = ?7, created_at = ?8, updated_at = ?9 WHERE id = ?1",
            arguments: arguments)
    }
}
