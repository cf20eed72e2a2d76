import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/open-store.js';
import { describeWithService } from '../support/services.js';
import { runProjectionKillScenario } from './projection-kill.js';
import { type ReliabilityTarget, targets } from './targets.js';

function projectionKillSuite(target: ReliabilityTarget): void {
  it('a runner SIGKILLed mid-catch-up is resumed from its checkpoint and ends equal to a clean rebuild', async (ctx) => {
    const probe = await openStore(target.url());
    const multiProcess = probe.capabilities.multiProcess;
    await probe.close();
    if (!multiProcess) return ctx.skip('the store lives in one process only');
    const result = await runProjectionKillScenario({
      url: target.url(),
      events: 1_500,
      killAtProcessed: 300,
      batchSize: 20,
      leaseTtlMs: 1_000,
      pauseEvery: 5,
    });
    // Killed in the middle: some batches committed, not all.
    expect(result.checkpointAtKill).toBeGreaterThanOrEqual(300);
    expect(result.checkpointAtKill).toBeLessThan(result.events);
    // The second runner continued from the checkpoint, not from the start.
    expect(result.resumedFrom).toBeGreaterThanOrEqual(result.checkpointAtKill);
    expect(result.finalProcessed).toBe(result.events);
    expect(result.equalsCleanRebuild).toBe(true);
  }, 60_000);
}

for (const target of targets) {
  const name = `projection runner killed mid-catch-up: ${target.name}`;
  if (target.service) describeWithService(target.service, name, () => projectionKillSuite(target));
  else describe(name, () => projectionKillSuite(target));
}
