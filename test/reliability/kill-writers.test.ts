import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/open-store.js';
import { describeWithService } from '../support/services.js';
import { runKillScenario } from './kill-writers.js';
import { type ReliabilityTarget, targets } from './targets.js';

function killSuite(target: ReliabilityTarget): void {
  it('writers killed with SIGKILL mid-batch: acknowledged batches all present, none partial, no duplicate', async (ctx) => {
    const url = target.url();
    const namespace = `kill${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const store = await openStore(url, { namespace });
    try {
      if (!store.capabilities.multiProcess) return ctx.skip('the store lives in one process only');
      const result = await runKillScenario(store, {
        url,
        namespace,
        writers: 3,
        batchSize: 25,
        maxRunMs: 1_500,
      });
      expect(result.acknowledgedBatches).toBeGreaterThan(0);
      expect(result.lostAcknowledged).toBe(0);
      expect(result.partialBatches).toBe(0);
      expect(result.duplicates).toBe(0);
      expect(result.storedEvents).toBe(result.storedBatches * 25);
      // The last append of each writer may have committed without its acknowledgement being read.
      expect(result.storedBatches).toBeGreaterThanOrEqual(result.acknowledgedBatches);
      expect(result.storedBatches - result.acknowledgedBatches).toBeLessThanOrEqual(result.writers);
    } finally {
      await store.close();
    }
  });
}

for (const target of targets) {
  const name = `killed writers leave no partial batch: ${target.name}`;
  if (target.service) describeWithService(target.service, name, () => killSuite(target));
  else describe(name, () => killSuite(target));
}
