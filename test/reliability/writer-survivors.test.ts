import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/open-store.js';
import { describeWithService } from '../support/services.js';
import { runSurvivorScenario } from './kill-writers.js';
import { type ReliabilityTarget, targets } from './targets.js';

const BATCH = 20;
const AFTER_KILL = 40;

function survivorSuite(target: ReliabilityTarget): void {
  it('writers SIGKILLed mid-batch do not block the others: survivors keep writing, nothing lost, partial or duplicated', async (ctx) => {
    const url = target.url();
    const namespace = `surv${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const store = await openStore(url, { namespace });
    try {
      if (!store.capabilities.multiProcess) return ctx.skip('the store lives in one process only');
      const result = await runSurvivorScenario(store, {
        url,
        namespace,
        victims: 2,
        survivors: 2,
        batchesAfterKill: AFTER_KILL,
        batchSize: BATCH,
        maxRunMs: 600,
        timeoutMs: 30_000,
      });
      // Survivors kept acknowledging after the last victim died, and exited cleanly (a failed
      // append makes a survivor exit with an error, which fails the scenario).
      expect(result.survivorAcks - result.survivorAcksAtLastKill).toBeGreaterThanOrEqual(AFTER_KILL);
      expect(result.lostAcknowledged).toBe(0);
      expect(result.partialBatches).toBe(0);
      expect(result.duplicates).toBe(0);
      expect(result.storedEvents).toBe(result.storedBatches * BATCH);
      // Only each victim's last, unacknowledged append may be stored beyond the acknowledged ones.
      expect(result.storedBatches - result.acknowledgedBatches).toBeGreaterThanOrEqual(0);
      expect(result.storedBatches - result.acknowledgedBatches).toBeLessThanOrEqual(2);
    } finally {
      await store.close();
    }
  }, 60_000);
}

for (const target of targets) {
  const name = `killed writers do not stop the survivors: ${target.name}`;
  if (target.service) describeWithService(target.service, name, () => survivorSuite(target));
  else describe(name, () => survivorSuite(target));
}
