import { afterAll, expect, it } from 'vitest';
import { dropSchema, randomSchema } from '../postgres/postgres-test-schema.js';
import { describeWithService, postgresUrl } from '../support/services.js';
import { runPostgresFaultScenario } from './postgres-faults.js';

/*
 * Dropped connections during appends, a projection run and a subscription. The single-append
 * cases (an append in flight on a terminated connection, a real server restart behind
 * ORDO_TEST_POSTGRES_RESTART_COMMAND) live in test/postgres/postgres-failures.test.ts.
 */
const schema = randomSchema('ordo_relpg');

describeWithService('postgres', 'postgres: connections terminated under load', () => {
  afterAll(async () => {
    await dropSchema(schema);
  });

  it('appends, a projection and a subscription survive pg_terminate_backend with typed errors and no loss', async () => {
    const result = await runPostgresFaultScenario({
      connectionString: postgresUrl,
      schema,
      writers: 3,
      batches: 40,
      batchSize: 3,
      terminateEvery: 25,
    });
    expect(result.unexpected).toEqual([]);
    expect(result.terminations).toBe(4);
    expect(result.terminatedBackends).toBeGreaterThan(0);
    // Every batch was eventually acknowledged (retried with the same ids) and stored exactly once.
    expect(result.acknowledgedBatches).toBe(120);
    expect(result.lost).toBe(0);
    expect(result.partial).toBe(0);
    expect(result.duplicates).toBe(0);
    expect(result.stored).toBe(result.acknowledgedEvents);
    // The projection only ever reported typed errors, and ended equal to a clean rebuild.
    for (const code of result.projectionErrorCodes)
      expect(['STORE_UNAVAILABLE', 'LEASE_LOST']).toContain(code);
    expect(result.projectionEqualsCleanRebuild).toBe(true);
    expect(result.subscriptionExactlyOnceInOrder).toBe(true);
    console.info(`postgres faults: ${JSON.stringify(result)}`);
  }, 60_000);
});
