export type {
  PostgresConnection,
  PostgresConnectionConfig,
  PostgresMigrateConfig,
  PostgresStoreConfig,
} from './postgres-config.js';
export { openPostgresStore, PostgresDriver } from './postgres-event-store.js';
export { latestSchemaVersion, migratePostgres } from './postgres-schema.js';
