// Placeholder until the NATS backend lands.
import type { CommonStoreConfig, EventStore } from '../../core/types.js';
export interface NatsStoreConfig extends CommonStoreConfig { servers: string | string[]; stream?: string; replicas?: number }
export async function openNatsStore(_config: NatsStoreConfig): Promise<EventStore> {
  throw new Error('not implemented');
}
