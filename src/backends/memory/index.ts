export type { MemoryStoreConfig } from './memory-config.js';
export { createInMemoryStore, MemoryDriver } from './memory-event-store.js';
