import { describe, expect, it } from 'vitest';
import { runSeatBookingRace } from '../../src/testing/seat-booking-race.js';
import { raceTargets } from './races.js';

for (const target of raceTargets) {
  describe(`seat booking race: ${target.name}`, () => {
    it('8 processes x 200 attempts on one stream book exactly 100 seats, each once, at versions 1..100', async () => {
      const result = await runSeatBookingRace({ url: target.url(), processes: 8, attempts: 200, seats: 100 });
      expect(result.violations).toEqual([]);
      expect(result.stored).toBe(100);
      expect(result.acknowledged).toBe(100);
      expect(result.streamVersion).toBe(100);
      // Every attempt ends as a booking, a sold-out answer or a give-up: none vanished.
      expect(result.acknowledged + result.soldOut + result.gaveUp).toBe(8 * 200);
      // The processes really contended for the same versions.
      expect(result.retries).toBeGreaterThan(0);
    }, 55_000);
  });
}
