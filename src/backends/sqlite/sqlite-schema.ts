import type { Database } from 'better-sqlite3';
import { StoreUnavailableError } from '../../core/errors.js';

/** One step of the schema; `up` runs inside the migration's write transaction. */
export interface SqliteMigration {
  version: number;
  name: string;
  up: (db: Database) => void;
}

/** Separator of the tags column: validation rejects NUL in tags, so it can never be part of one. */
export const TAG_SEPARATOR = '\u0000';

/**
 * The schema history, oldest first. Released migrations are never edited: a change to the
 * schema is a new entry with the next version.
 */
export const sqliteMigrations: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'streams, events and snapshots',
    up(db) {
      db.exec(`
        CREATE TABLE streams (
          stream_key INTEGER PRIMARY KEY,
          namespace TEXT NOT NULL,
          stream_id TEXT NOT NULL,
          version INTEGER NOT NULL,
          UNIQUE (namespace, stream_id)
        );
        CREATE TABLE events (
          position INTEGER PRIMARY KEY,
          namespace TEXT NOT NULL,
          stream_key INTEGER NOT NULL REFERENCES streams (stream_key),
          stream_id TEXT NOT NULL,
          version INTEGER NOT NULL,
          event_id TEXT NOT NULL,
          type TEXT NOT NULL,
          data TEXT NOT NULL,
          metadata TEXT NOT NULL,
          tags TEXT NOT NULL,
          timestamp INTEGER NOT NULL
        );
        -- Per-stream indexes use the small integer key: less to write per append than the text ids.
        CREATE UNIQUE INDEX events_stream_version ON events (stream_key, version);
        CREATE UNIQUE INDEX events_stream_event_id ON events (stream_key, event_id);
        CREATE INDEX events_namespace_position ON events (namespace, position);
        CREATE TABLE snapshots (
          namespace TEXT NOT NULL,
          stream_id TEXT NOT NULL,
          version INTEGER NOT NULL,
          state TEXT NOT NULL,
          schema TEXT NOT NULL,
          timestamp INTEGER NOT NULL,
          PRIMARY KEY (namespace, stream_id)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    name: 'type and tag indexes for queries and append conditions',
    up(db) {
      db.exec(`
        CREATE INDEX events_namespace_type ON events (namespace, type, position);
        CREATE TABLE event_tags (
          namespace TEXT NOT NULL,
          tag TEXT NOT NULL,
          position INTEGER NOT NULL,
          PRIMARY KEY (namespace, tag, position)
        ) WITHOUT ROWID;
      `);
      // Events written before this migration get their tag rows now, so queries see them too.
      const insert = db.prepare(
        'INSERT OR IGNORE INTO event_tags (namespace, tag, position) VALUES (?, ?, ?)',
      );
      // Paged (a connection cannot write while it iterates a query), so memory stays bounded.
      const page = db
        .prepare(
          "SELECT position, namespace, tags FROM events WHERE position > ? AND tags <> '' ORDER BY position LIMIT 1000",
        )
        .raw(true);
      for (let after = 0; ; ) {
        const rows = page.all(after) as [number, string, string][];
        if (rows.length === 0) break;
        for (const [position, namespace, tags] of rows) {
          for (const tag of tags.split(TAG_SEPARATOR)) insert.run(namespace, tag, position);
        }
        after = rows[rows.length - 1]![0];
      }
    },
  },
];

/** The schema version this code writes and reads. */
export const SQLITE_SCHEMA_VERSION = sqliteMigrations[sqliteMigrations.length - 1]!.version;

/** The highest applied migration (0 for a new file). */
export function schemaVersion(db: Database): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (!table) return 0;
  return (db.prepare('SELECT coalesce(max(version), 0) FROM schema_migrations').pluck().get() as number) ?? 0;
}

/**
 * Brings the database to `target` (default: the latest version). Idempotent, and safe when
 * several processes open the same file at once: the check and every step run in one
 * `BEGIN IMMEDIATE` transaction, so exactly one process applies a step and the others see it
 * applied. A database written by a newer version is refused instead of being misread.
 */
export function migrateSqlite(db: Database, target = SQLITE_SCHEMA_VERSION): void {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    const current = schemaVersion(db);
    if (current > SQLITE_SCHEMA_VERSION) {
      throw new StoreUnavailableError(
        `database schema version ${current} is newer than the supported version ${SQLITE_SCHEMA_VERSION}; upgrade Ordo`,
      );
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const migration of sqliteMigrations) {
      if (migration.version <= current || migration.version > target) continue;
      migration.up(db);
      record.run(migration.version, migration.name, Date.now());
    }
  }).immediate();
}
