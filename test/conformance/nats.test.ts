import { afterAll } from 'vitest';
import { NatsDriver, openNatsStore } from '../../src/backends/nats/index.js';
import { driverOf } from '../../src/core/driver-event-store.js';
import { runEventStoreConformance } from '../../src/testing/index.js';
import { deleteStreams, natsServer, uniquePrefix } from '../nats/nats-helpers.js';
import { describeWithService, natsUrl } from '../support/services.js';

// A stream-name prefix of its own: the suite's namespaces become streams `<prefix>_<namespace>`.
const prefix = uniquePrefix('conf');

describeWithService('nats', 'nats backend', () => {
  afterAll(() => deleteStreams(prefix, natsServer(natsUrl)));
  runEventStoreConformance({
    name: 'nats',
    create: () => openNatsStore({ servers: natsServer(natsUrl), stream: prefix }),
    url: `${natsUrl}?stream=${prefix}`,
    corrupt: async (store, streamId, version) => {
      const driver = driverOf(store);
      if (!(driver instanceof NatsDriver)) throw new Error('not a NATS store');
      await driver.corrupt(streamId, version);
    },
  });
});
