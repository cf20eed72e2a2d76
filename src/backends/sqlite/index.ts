// Placeholder until the SQLite backend lands.
import type { CommonStoreConfig, EventStore } from '../../core/types.js';
export interface SqliteStoreConfig extends CommonStoreConfig { path: string; synchronous?: 'FULL' | 'NORMAL' }
export async function openSqliteStore(_config: SqliteStoreConfig): Promise<EventStore> {
  throw new Error('not implemented');
}
