import { execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/backends/postgres/index.js';
import { StoreUnavailableError } from '../../src/core/errors.js';
import type { EventStore, NewEvent } from '../../src/core/types.js';
import { describeWithService, postgresUrl } from '../support/services.js';
import { adminQuery, dropSchema, randomSchema } from './postgres-test-schema.js';

const schema = randomSchema('ordo_fail');

/** Terminates every server connection of the store's pool (found by its application name). */
async function terminate(applicationName: string): Promise<number> {
  const rows = await adminQuery<{ pid: number }>(
    'SELECT pg_terminate_backend(pid), pid FROM pg_stat_activity WHERE application_name = $1',
    [applicationName],
  );
  return rows.length;
}

function batch(key: string): NewEvent[] {
  return [0, 1, 2].map((k) => ({ id: `${key}-${k}`, type: 'Batch', data: { key, k } }));
}

describeWithService('postgres', 'postgres connection failures', () => {
  let setup: EventStore;
  beforeAll(async () => {
    setup = await openPostgresStore({ connectionString: postgresUrl, schema });
  });
  afterAll(async () => {
    await setup?.close();
    await dropSchema(schema);
  });

  async function openTerminable(): Promise<{ store: EventStore; applicationName: string }> {
    const applicationName = `ordo-fail-${randomUUID().slice(0, 8)}`;
    const store = await openPostgresStore({
      connectionString: postgresUrl,
      schema,
      applicationName,
      poolSize: 4,
      migrate: false,
    });
    return {
      store: store.withNamespace(`f${randomUUID().replaceAll('-', '').slice(0, 16)}`),
      applicationName,
    };
  }

  it('an append whose connection is terminated fails with StoreUnavailableError, writes nothing, and the pool reconnects', async () => {
    const { store, applicationName } = await openTerminable();
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      await store.append('s', batch('first'));
      // Hold the stream row so that the next append is in flight when its connection dies.
      await admin.query('BEGIN');
      await admin.query(
        `SELECT version FROM "${schema}".streams WHERE namespace = $1 AND stream_id = 's' FOR UPDATE`,
        [store.namespace],
      );
      const pending = store.append('s', batch('second'), { expectedVersion: 3 }).catch((e: unknown) => e);
      // Wait until the append is blocked on the row lock, then cut its connection.
      for (let i = 0; i < 200; i++) {
        const waiting = await adminQuery(
          `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [applicationName],
        );
        if (waiting.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(await terminate(applicationName)).toBeGreaterThan(0);
      const error = await pending;
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).cause).toMatchObject({ code: '57P01' });
      await admin.query('ROLLBACK');
      // Nothing of the failed batch was written; the store works again on fresh connections.
      expect(await store.streamVersion('s')).toBe(3);
      // The caller retries with the same ids (the outcome was unknown to it): stored exactly once.
      await expect(store.append('s', batch('second'), { expectedVersion: 3 })).resolves.toMatchObject({
        lastVersion: 6,
      });
      await expect(store.append('s', batch('second'), { expectedVersion: 3 })).resolves.toMatchObject({
        lastVersion: 6,
      });
      expect((await store.readStream('s')).map((e) => e.id)).toEqual(
        [...batch('first'), ...batch('second')].map((e) => e.id),
      );
    } finally {
      await admin.query('ROLLBACK').catch(() => {});
      await admin.end();
      await store.close();
    }
  });

  it('terminating connections during concurrent appends loses no acknowledged event and leaves no partial batch', async () => {
    const { store, applicationName } = await openTerminable();
    try {
      const outcomes = new Map<string, 'ok' | 'unavailable'>();
      const unexpected: unknown[] = [];
      let acknowledged = 0;
      const writers = Array.from({ length: 4 }, async (_, writer) => {
        for (let i = 0; i < 40; i++) {
          const key = `w${writer}-${i}`;
          try {
            await store.append(`stream-${writer}`, batch(key));
            outcomes.set(key, 'ok');
            acknowledged++;
          } catch (error) {
            if (error instanceof StoreUnavailableError && error.cause !== undefined)
              outcomes.set(key, 'unavailable');
            else unexpected.push(error);
          }
        }
      });
      const killer = (async () => {
        for (const threshold of [15, 50, 90]) {
          while (acknowledged < threshold && outcomes.size < 160)
            await new Promise((resolve) => setTimeout(resolve, 5));
          await terminate(applicationName);
        }
      })();
      await Promise.all([...writers, killer]);
      expect(unexpected).toEqual([]);
      expect(outcomes.size).toBe(160);

      const stored = new Map<string, number>();
      for (let writer = 0; writer < 4; writer++) {
        for (const event of await store.readStream(`stream-${writer}`)) {
          const key = (event.data as { key: string }).key;
          stored.set(key, (stored.get(key) ?? 0) + 1);
        }
      }
      for (const [key, outcome] of outcomes) {
        const count = stored.get(key) ?? 0;
        // All or nothing per batch; acknowledged batches are always there.
        expect([0, 3]).toContain(count);
        if (outcome === 'ok') expect(count, key).toBe(3);
      }
      // Retrying every failed append with the same ids makes each batch present exactly once.
      for (const [key, outcome] of outcomes) {
        if (outcome === 'unavailable')
          await store.append(`stream-${key.split('-')[0]!.slice(1)}`, batch(key));
      }
      for (let writer = 0; writer < 4; writer++) {
        const events = await store.readStream(`stream-${writer}`);
        expect(events).toHaveLength(120);
        expect(new Set(events.map((e) => e.id)).size).toBe(120);
      }
    } finally {
      await store.close();
    }
  });

  it('an unreachable server surfaces StoreUnavailableError when opening', async () => {
    const url = new URL(postgresUrl);
    url.port = '1';
    await expect(openPostgresStore({ connectionString: url.toString(), schema })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });

  // Restarting the shared server would disturb other suites: only with an explicit command.
  const restartCommand = process.env.ORDO_TEST_POSTGRES_RESTART_COMMAND;
  it.skipIf(!restartCommand)(
    'a server restart during appends surfaces StoreUnavailableError and the store recovers',
    async () => {
      const { store } = await openTerminable();
      try {
        const acknowledged: string[] = [];
        const unexpected: unknown[] = [];
        let unavailable = 0;
        let restarted = false;
        let afterRestart = 0;
        const writer = (async () => {
          // Bounded: stops after 5 acknowledged appends following the restart, or 600 attempts.
          for (let i = 0; i < 600 && afterRestart < 5; i++) {
            try {
              await store.append('restart', batch(`r${i}`));
              acknowledged.push(`r${i}`);
              if (restarted) afterRestart++;
            } catch (error) {
              if (error instanceof StoreUnavailableError) unavailable++;
              else unexpected.push(error);
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          }
        })();
        while (acknowledged.length < 10) await new Promise((resolve) => setTimeout(resolve, 10));
        execSync(restartCommand!, { stdio: 'inherit', timeout: 60_000 });
        restarted = true;
        await writer;
        expect(unexpected).toEqual([]);
        expect(afterRestart).toBe(5);
        const stored = new Set(
          (await store.readStream('restart')).map((e) => (e.data as { key: string }).key),
        );
        for (const key of acknowledged) expect(stored.has(key), key).toBe(true);
        console.info(
          `restart test: ${unavailable} appends failed with StoreUnavailableError during the restart`,
        );
      } finally {
        await store.close();
      }
    },
    120_000,
  );
});
