import type { CommonStoreConfig } from '../../core/types.js';

/** Configuration of `openSqliteStore`. */
export interface SqliteStoreConfig extends CommonStoreConfig {
  /** Database file (parent directories are created) or `':memory:'` for a private in-memory database. */
  path: string;
  /**
   * `FULL` (default) syncs the write-ahead log on every commit, so an acknowledged append survives
   * a power loss. `NORMAL` is an explicit opt-in: still atomic and crash-safe for the process, but
   * the last commits may be lost on an operating-system crash or power loss.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * How long a write waits for another connection (possibly another process) holding the write
   * lock before failing with `StoreUnavailableError` (default 5000 ms).
   */
  busyTimeoutMs?: number;
  /** How often live subscriptions look for appends made by other processes (default 100 ms). */
  pollIntervalMs?: number;
}
