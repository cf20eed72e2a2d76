// Placeholder until the PostgreSQL backend lands.
import type { CommonStoreConfig, EventStore } from '../../core/types.js';
export interface PostgresStoreConfig extends CommonStoreConfig { connectionString: string; schema?: string }
export async function openPostgresStore(_config: PostgresStoreConfig): Promise<EventStore> {
  throw new Error('not implemented');
}
