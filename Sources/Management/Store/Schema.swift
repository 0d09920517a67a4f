import GRDB

/// The metadata tables, as named migration steps. Timestamps are milliseconds
/// since the epoch; config and annotations are JSON objects.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: apps, fns, triggers") { db in
            try db.execute(sql: """
                CREATE TABLE apps (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL UNIQUE,
                    config TEXT NOT NULL DEFAULT '{}',
                    annotations TEXT NOT NULL DEFAULT '{}',
                    syslog_url TEXT,
                    shape TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE TABLE fns (
                    id TEXT PRIMARY KEY NOT NULL,
                    app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    image TEXT NOT NULL,
                    memory INTEGER NOT NULL,
                    timeout INTEGER NOT NULL,
                    idle_timeout INTEGER NOT NULL,
                    config TEXT NOT NULL DEFAULT '{}',
                    annotations TEXT NOT NULL DEFAULT '{}',
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    UNIQUE (app_id, name)
                );
                CREATE TABLE triggers (
                    id TEXT PRIMARY KEY NOT NULL,
                    app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
                    fn_id TEXT NOT NULL REFERENCES fns(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    type TEXT NOT NULL,
                    source TEXT NOT NULL,
                    annotations TEXT NOT NULL DEFAULT '{}',
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    UNIQUE (app_id, name),
                    UNIQUE (app_id, type, source)
                );
                CREATE INDEX triggers_fn_id ON triggers(fn_id, name);
                """)
        }
        return migrator
    }
}
