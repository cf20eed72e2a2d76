// Runs a projection registry until killed; reports lease ownership and progress as JSON lines.
import { openStore } from '../../../src/index.js';
import { createProjectionRegistry, defineProjection } from '../../../src/projections/index.js';

const [url, namespace, leaseTtlText] = process.argv.slice(2) as [string, string, string];

/** Per stream, every version seen, so a double application would show up as a duplicate. */
const seen = defineProjection<null, { versions: number[] }>({
  name: 'seen',
  version: 1,
  handlers: {
    Tick: async (_state, event, { docs }) => {
      const doc = (await docs.get(event.streamId)) ?? { versions: [] };
      docs.put(event.streamId, { versions: [...doc.versions, event.version] });
      return undefined;
    },
  },
});

const store = await openStore(url, { namespace });
const registry = createProjectionRegistry({
  store,
  projections: [seen],
  leaseTtlMs: Number(leaseTtlText),
  batchSize: 5,
});
await registry.start();
for (;;) {
  const status = await registry.status('seen');
  console.log(
    JSON.stringify({
      pid: process.pid,
      leaseHeld: status.leaseHeld,
      state: status.state,
      processed: status.processed,
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
}
