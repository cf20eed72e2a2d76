export type { MemoryStoreConfig } from './memory-config.js';
export { createInMemoryStore, MemoryAppendTransaction, MemoryDriver } from './memory-event-store.js';
