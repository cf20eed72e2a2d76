import type pg from 'pg';
import type { CommonStoreConfig } from '../../core/types.js';

/**
 * Something that runs queries for the store: a `pg.Pool` (recommended), or a single client
 * (`pg.Client` / a checked-out `pg.PoolClient`). An injected connection is never closed by the store.
 */
export type PostgresConnection = pg.Pool | pg.ClientBase;

/** Where the store's tables live: a connection string or an injected pool/client, plus the schema name. */
export interface PostgresConnectionConfig {
  /** `postgres://user@host:port/database`; used to create a pool owned (and closed) by the store. */
  connectionString?: string;
  /** An existing pool or client to use instead of `connectionString` (Kysely-style injection). */
  pool?: PostgresConnection;
  /** Schema holding the store's tables and functions; created when missing. Default `ordo`. */
  schema?: string;
}

/** Configuration of `openPostgresStore`. */
export interface PostgresStoreConfig extends CommonStoreConfig, PostgresConnectionConfig {
  /** Size of the pool created from `connectionString` (ignored with an injected pool). Default 10. */
  poolSize?: number;
  /** `application_name` of the store's connections (visible in `pg_stat_activity`). Default `ordo`. */
  applicationName?: string;
  /**
   * How often live subscriptions look for appends made by other processes, in milliseconds.
   * Appends made through this process wake them at once. Default 100.
   */
  pollIntervalMs?: number;
  /**
   * Longest time a global read (`readAll`, `headPosition`, subscription polls) waits for
   * transactions in flight, so that it sees every append acknowledged before it began
   * (read-your-writes across processes). 0 turns the wait off. Default 2000.
   */
  visibilityWaitMs?: number;
  /**
   * Also wake subscriptions in other processes with LISTEN/NOTIFY (default false: polling only).
   * Sends one coalesced NOTIFY after appends, outside their transactions, and keeps one extra
   * connection listening. Needs `connectionString`.
   */
  notify?: boolean;
  /** Create or upgrade the schema when opening (default true). With false, run `migratePostgres` beforehand. */
  migrate?: boolean;
}

/** Configuration of `migratePostgres`. */
export interface PostgresMigrateConfig extends PostgresConnectionConfig {}

export const defaultSchema = 'ordo';
export const defaultPollIntervalMs = 100;
export const defaultVisibilityWaitMs = 2_000;
export const defaultPoolSize = 10;
