import { createInMemoryStore, MemoryDriver } from '../../src/backends/memory/index.js';
import { driverOf } from '../../src/core/driver-event-store.js';
import { runEventStoreConformance } from '../../src/testing/index.js';

runEventStoreConformance({
  name: 'memory',
  create: async () => createInMemoryStore(),
  corrupt: async (store, streamId, version) => {
    const driver = driverOf(store);
    if (!(driver instanceof MemoryDriver)) throw new Error('not a memory store');
    driver.corrupt(streamId, version);
  },
});
