import { describe, expect, it } from 'vitest';
import { runKilledWriterRace } from '../../src/testing/killed-writer-race.js';
import { raceTargets } from './races.js';

for (const target of raceTargets) {
  describe(`killed writer race: ${target.name}`, () => {
    it('writers killed with SIGKILL mid-append leave only complete 50-event batches', async () => {
      const result = await runKilledWriterRace({
        url: target.url(),
        writers: 4,
        batchSize: 50,
        maxDelayMs: 400,
      });
      expect(result.violations).toEqual([]);
      expect(result.acknowledged).toBeGreaterThanOrEqual(4);
      expect(result.storedBatches).toBeGreaterThanOrEqual(result.acknowledged);
      expect(result.storedEvents).toBe(result.storedBatches * 50);
    }, 55_000);
  });
}
