/**
 * Runs the ledger projection in its own process until killed, printing its status as one JSON line
 * every 25 ms. argv: url namespace leaseTtlMs batchSize [pauseEvery]
 */
import { openStore } from '../../../src/open-store.js';
import { createProjectionRegistry } from '../../../src/projections/index.js';
import { ledgerProjection } from '../read-model.js';

const [url, namespace, leaseTtlArg, batchArg, pauseArg] = process.argv.slice(2);
const store = await openStore(url!, { namespace: namespace! });
const registry = createProjectionRegistry({
  store,
  projections: [ledgerProjection('ledger', { pauseEvery: Number(pauseArg ?? 0) })],
  leaseTtlMs: Number(leaseTtlArg),
  batchSize: Number(batchArg),
});
await registry.start();
for (;;) {
  const status = await registry.status('ledger');
  process.stdout.write(
    `${JSON.stringify({ pid: process.pid, state: status.state, processed: status.processed, leaseHeld: status.leaseHeld, lagEvents: status.lagEvents, lastError: status.lastError?.code ?? null })}\n`,
  );
  await new Promise((resolve) => setTimeout(resolve, 25));
}
