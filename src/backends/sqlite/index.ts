export type { SqliteStoreConfig } from './sqlite-config.js';
export { openSqliteStore, SqliteDriver, sqliteDriverOf } from './sqlite-event-store.js';
export {
  migrateSqlite,
  SQLITE_SCHEMA_VERSION,
  type SqliteMigration,
  schemaVersion,
  sqliteMigrations,
} from './sqlite-schema.js';
