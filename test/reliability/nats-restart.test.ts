import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { natsServerBinary } from '../nats/nats-private-server.js';
import { runNatsRestartScenario } from './nats-restart.js';

/*
 * Appends across a restart of a single writer are covered in test/nats/nats-restart.test.ts; this
 * file adds concurrent writers, a running projection and a live subscription across two restarts.
 */
const describeIfBinary = existsSync(natsServerBinary) || process.env.CI === 'true' ? describe : describe.skip;

describeIfBinary('NATS server SIGKILLed and restarted under load (private nats-server)', () => {
  it('typed errors while down; no acknowledged event lost or duplicated; subscription exactly once in order; projection equals a clean rebuild', async () => {
    const result = await runNatsRestartScenario({
      writers: 3,
      batches: 30,
      batchSize: 3,
      restartEvery: 30,
      downMs: 600,
    });
    console.info(`nats restart: ${JSON.stringify(result)}`);
    expect(result.unexpected).toEqual([]);
    expect(result.restarts).toBe(2);
    // While the server was down, reads failed with StoreUnavailableError and nothing else.
    expect(result.readsWhileDown).toBeGreaterThan(0);
    expect(result.readsWhileDownTyped).toBe(result.readsWhileDown);
    expect(result.acknowledgedBatches).toBe(90);
    expect(result.lost).toBe(0);
    expect(result.partial).toBe(0);
    expect(result.duplicates).toBe(0);
    expect(result.stored).toBe(result.acknowledgedEvents);
    expect(result.subscriptionExactlyOnceInOrder).toBe(true);
    for (const code of result.projectionErrorCodes)
      expect(['STORE_UNAVAILABLE', 'LEASE_LOST']).toContain(code);
    expect(result.projectionEqualsCleanRebuild).toBe(true);
  }, 60_000);
});
