import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPostgresStore, type PostgresDriver } from '../../src/backends/postgres/index.js';
import type { AppendHookContext } from '../../src/core/driver.js';
import { driverOf } from '../../src/core/driver-event-store.js';
import { VersionConflictError } from '../../src/core/errors.js';
import type { EventStore } from '../../src/core/types.js';
import { describeWithService, postgresUrl } from '../support/services.js';
import { adminQuery, dropSchema, randomSchema } from './postgres-test-schema.js';

const schema = randomSchema('ordo_hooks');

describeWithService('postgres', 'postgres append hooks', () => {
  let root: EventStore;
  beforeAll(async () => {
    root = await openPostgresStore({ connectionString: postgresUrl, schema });
    await adminQuery(
      `CREATE TABLE "${schema}".hook_log (namespace text, stream_id text, version int, position text)`,
    );
  });
  afterAll(async () => {
    await root?.close();
    await dropSchema(schema);
  });

  function fresh(): { store: EventStore; driver: PostgresDriver } {
    const store = root.withNamespace(`h${randomUUID().replaceAll('-', '').slice(0, 16)}`);
    return { store, driver: driverOf(store) as PostgresDriver };
  }

  const logged = (namespace: string) =>
    adminQuery<{ version: number; position: string }>(
      `SELECT version, position FROM "${schema}".hook_log WHERE namespace = $1 ORDER BY version`,
      [namespace],
    );

  it('hooks write in the append transaction and see the records with their positions', async () => {
    const { store, driver } = fresh();
    expect(store.capabilities.transactionalInline).toBe(true);
    const remove = driver.addAppendHook(async ({ records, transaction }: AppendHookContext) => {
      for (const record of records) {
        await (transaction as pg.ClientBase).query(
          `INSERT INTO "${schema}".hook_log VALUES ($1, $2, $3, $4)`,
          [store.namespace, record.streamId, record.version, record.position],
        );
      }
    });
    const result = await store.append('s', [
      { type: 'A', data: 1 },
      { type: 'B', data: 2, tags: ['x'] },
    ]);
    const events = await store.readStream('s');
    expect(await logged(store.namespace)).toEqual(
      events.map((e) => ({ version: e.version, position: e.position })),
    );
    expect(result.position).toBe(events[1]!.position);
    // A conflicting append runs no hook and writes nothing.
    await expect(store.append('s', [{ type: 'C', data: 3 }], { expectedVersion: 1 })).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    remove();
    await store.append('s', [{ type: 'D', data: 4 }]);
    expect(await logged(store.namespace)).toHaveLength(2);
  });

  it('a throwing hook fails the append and rolls back everything, hook writes included', async () => {
    const { store, driver } = fresh();
    const failure = new Error('projection failed');
    driver.addAppendHook(async ({ records, transaction }) => {
      await (transaction as pg.ClientBase).query(`INSERT INTO "${schema}".hook_log VALUES ($1, $2, $3, $4)`, [
        store.namespace,
        records[0]!.streamId,
        records[0]!.version,
        records[0]!.position,
      ]);
      throw failure;
    });
    await expect(store.append('s', [{ type: 'A', data: 1 }])).rejects.toBe(failure);
    expect(await store.streamVersion('s')).toBe(0);
    expect(await logged(store.namespace)).toEqual([]);
  });
});
