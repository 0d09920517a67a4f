import Foundation
import GRDB
import Synchronization

/// The metadata of apps, functions and triggers in SQLite: a file (a GRDB
/// `DatabasePool`, WAL mode) that survives restarts, or memory (a `DatabaseQueue`).
/// All methods are synchronous and thread-safe; writes are serialized.
public final class MetadataStore: Sendable {
    let database: any DatabaseWriter
    private let observers = Mutex<[@Sendable (ManagementChange) -> Void]>([])

    private init(database: any DatabaseWriter) throws {
        try Schema.migrator.migrate(database)
        self.database = database
    }

    /// Opens (or creates) the store at `path`, creating its parent directories, and migrates it.
    public convenience init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)  // another process (`fnrt tune --apply`) may be writing
        try self.init(database: try DatabasePool(path: url.path, configuration: configuration))
    }

    /// A store that lives in memory only (tests, demos).
    public static func inMemory() throws -> MetadataStore {
        try MetadataStore(database: try DatabaseQueue())
    }

    /// Closes the database; the store can't be used afterwards.
    public func close() throws {
        try database.close()
    }

    /// Calls `handler` after each committed change made through this store (not
    /// those of other processes), on the thread that made it; a deletion also
    /// reports what it took with it (an app's functions and triggers, a function's triggers).
    public func observe(_ handler: @escaping @Sendable (ManagementChange) -> Void) {
        observers.withLock { $0.append(handler) }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try database.read(body)
    }

    /// Runs `body` in a write transaction, then tells the observers what it changed.
    func write<T>(_ body: (Database) throws -> (T, [ManagementChange])) throws -> T {
        let (value, changes) = try database.write(body)
        if !changes.isEmpty {
            let handlers = observers.withLock { $0 }
            for change in changes {
                for handler in handlers { handler(change) }
            }
        }
        return value
    }

    /// A new ID and the creation time it encodes.
    func newID() -> (String, Date) {
        let now = Timestamp.now()
        return (ULID.make(milliseconds: UInt64(max(0, Timestamp.milliseconds(now)))), now)
    }

    /// Pages through `SELECT * FROM table WHERE conditions ORDER BY name`.
    func page<Item: Sendable>(
        _ db: Database, table: String, conditions: [String], arguments: [any DatabaseValueConvertible],
        cursor: String?, perPage: Int, decode: (Row) throws -> Item, name: (Item) -> String
    ) throws -> Page<Item> {
        var conditions = conditions
        var arguments = arguments
        if let after = try Cursor.name(from: cursor) {
            conditions.append("name > ?")
            arguments.append(after)
        }
        let limit = Cursor.clamp(perPage: perPage)
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let rows = try Row.fetchAll(
            db, sql: "SELECT * FROM \(table)\(filter) ORDER BY name LIMIT ?",
            arguments: StatementArguments(arguments + [limit + 1]))
        var items = try rows.map(decode)
        var next: String?
        if items.count > limit {
            items.removeLast(items.count - limit)
            next = items.last.map { Cursor.make(after: name($0)) }
        }
        return Page(items: items, nextCursor: next)
    }
}
