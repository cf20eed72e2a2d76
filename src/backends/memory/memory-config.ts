import type { CommonStoreConfig } from '../../core/types.js';

/** Configuration of `createInMemoryStore`. */
export interface MemoryStoreConfig extends CommonStoreConfig {}
