import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/backends/postgres/index.js';
import { AppendConditionError, InvalidInputError } from '../../src/core/errors.js';
import type { EventQuery, EventStore } from '../../src/core/types.js';
import { describeWithService, postgresUrl } from '../support/services.js';
import { dropSchema, randomSchema, schemaUrl } from './postgres-test-schema.js';
import { runWorker } from './run-worker.js';

const schema = randomSchema('ordo_cond');

describeWithService('postgres', 'postgres conditions', () => {
  let root: EventStore;
  let admin: pg.Client;
  beforeAll(async () => {
    root = await openPostgresStore({ connectionString: postgresUrl, schema });
    admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await root?.close();
    await dropSchema(schema);
  });

  const fresh = () => root.withNamespace(`c${randomUUID().replaceAll('-', '').slice(0, 16)}`);

  /** Appends through the store's function inside an open transaction of `admin`, leaving it uncommitted. */
  async function beginInFlightAppend(namespace: string, type: string, tags: string[]): Promise<void> {
    await admin.query('BEGIN');
    await admin.query(
      `SELECT * FROM "${schema}".append_events($1, $2, -1, $3, '{t}', $4, '{"{}"}', '{"{}"}', $5, $6, now(), NULL, '0', -1)`,
      [namespace, `inflight-${randomUUID()}`, [randomUUID()], [type], [tags.length], tags],
    );
  }

  const cases: [string, EventQuery, string, string[]][] = [
    ['tag query', { tags: ['course:1'] }, 'Enrolled', ['course:1', 'student:9']],
    ['type query', { types: ['Enrolled'] }, 'Enrolled', []],
    ['match-everything query', {}, 'Anything', []],
  ];
  for (const [label, query, type, tags] of cases) {
    it(`a ${label} waits for a matching append in flight and then fails`, async () => {
      const store = fresh();
      await beginInFlightAppend(store.namespace, type, tags);
      let settled = false;
      // Settles to the error (or undefined), so no rejection is ever left unhandled.
      const conditional = store
        .append('decision', [{ type: 'Decided', data: {} }], { condition: { failIfEventsMatch: query } })
        .then(
          () => undefined,
          (error: unknown) => error,
        )
        .finally(() => {
          settled = true;
        });
      // The conditional append must block on the in-flight one rather than decide without it.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false);
      await admin.query('COMMIT');
      expect(await conditional).toBeInstanceOf(AppendConditionError);
      expect(await store.streamVersion('decision')).toBe(0);
    });

    it(`a ${label} succeeds when the matching append in flight rolls back`, async () => {
      const store = fresh();
      await beginInFlightAppend(store.namespace, type, tags);
      const conditional = store.append('decision', [{ type: 'Decided', data: {} }], {
        condition: { failIfEventsMatch: query },
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await admin.query('ROLLBACK');
      await expect(conditional).resolves.toMatchObject({ firstVersion: 1, lastVersion: 1 });
    });
  }

  it('a type query waits for a single-event append in flight in a caller transaction', async () => {
    const store = fresh();
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    const inTransaction = await openPostgresStore({
      pool: client,
      schema,
      namespace: store.namespace,
      migrate: false,
    });
    try {
      await client.query('BEGIN');
      // A single event without tags takes the single-statement path: it must lock like the function.
      await inTransaction.append(`inflight-${randomUUID()}`, [{ type: 'Enrolled', data: {} }]);
      const conditional = store
        .append('decision', [{ type: 'Decided', data: {} }], {
          condition: { failIfEventsMatch: { types: ['Enrolled'] } },
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
      await client.query('COMMIT');
      expect(await conditional).toBeInstanceOf(AppendConditionError);
    } finally {
      await client.query('ROLLBACK').catch(() => {});
      await inTransaction.close();
      await client.end();
    }
  });

  it('appends with unrelated types and tags do not wait for each other', async () => {
    const store = fresh();
    await beginInFlightAppend(store.namespace, 'Other', ['course:2']);
    try {
      const result = await store.append('decision', [{ type: 'Decided', data: {} }], {
        condition: { failIfEventsMatch: { types: ['Enrolled'], tags: ['course:1'] } },
      });
      expect(result.lastVersion).toBe(1);
    } finally {
      await admin.query('ROLLBACK');
    }
  });

  it('a condition with after only fails for matching events after that position', async () => {
    const store = fresh();
    await store.append('a', [{ type: 'Enrolled', data: {}, tags: ['course:1'] }]);
    const head = await store.headPosition();
    const query = { types: ['Enrolled'], tags: ['course:1'] };
    await store.append('b', [{ type: 'Decided', data: {} }], {
      condition: { failIfEventsMatch: query, after: head },
    });
    await store.append('a', [{ type: 'Enrolled', data: {}, tags: ['course:1'] }]);
    const error = await store
      .append('b', [{ type: 'Decided', data: {} }], { condition: { failIfEventsMatch: query, after: head } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppendConditionError);
    expect((error as AppendConditionError).matchingPosition).toBe((await store.readStream('a'))[1]!.position);
  });

  it('refuses a conditional append inside a REPEATABLE READ transaction, writing nothing', async () => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    const store = await openPostgresStore({
      pool: client,
      schema,
      namespace: `c${randomUUID().slice(0, 8)}`,
    });
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await expect(
        store.append('s', [{ type: 'A', data: {} }], { condition: { failIfEventsMatch: { types: ['A'] } } }),
      ).rejects.toBeInstanceOf(InvalidInputError);
      await client.query('ROLLBACK');
      expect(await store.streamVersion('s')).toBe(0);
    } finally {
      await store.close();
      await client.end();
    }
  });

  for (const withAfter of [false, true]) {
    it(`six processes registering the same usernames${withAfter ? ' (decisions read with after)' : ''} never duplicate one`, async () => {
      const store = fresh();
      const names = Array.from({ length: 12 }, (_, i) => `user${i}`);
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, worker) =>
          runWorker<{ registered: number; rejected: number }>('register-usernames', {
            url: schemaUrl(schema),
            namespace: store.namespace,
            // Different orders make the processes collide on different names at different times.
            names: worker % 2 === 0 ? names : [...names].reverse(),
            withAfter,
          }),
        ),
      );
      const events = await store.readAll({ filter: { types: ['UserRegistered'] } });
      const registeredNames = events.map((e) => (e.data as { name: string }).name).sort();
      expect(registeredNames).toEqual([...names].sort());
      expect(results.reduce((sum, r) => sum + r.registered, 0)).toBe(names.length);
      expect(results.reduce((sum, r) => sum + r.rejected, 0)).toBe(names.length * 5);
    });
  }
});
