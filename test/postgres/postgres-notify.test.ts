import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/backends/postgres/index.js';
import { InvalidInputError } from '../../src/core/errors.js';
import type { RecordedEvent } from '../../src/core/types.js';
import { describeWithService, postgresUrl } from '../support/services.js';
import { adminQuery, dropSchema, randomSchema } from './postgres-test-schema.js';

const schema = randomSchema('ordo_notify');

describeWithService('postgres', 'postgres notifications', () => {
  afterAll(() => dropSchema(schema));

  it('with notify, a subscriber in another store wakes on appends long before its poll interval', async () => {
    const namespace = `n${randomUUID().slice(0, 8)}`;
    // A poll interval far beyond the test's bound: only a notification can deliver in time.
    const config = {
      connectionString: postgresUrl,
      schema,
      namespace,
      notify: true,
      pollIntervalMs: 600_000,
    };
    const writer = await openPostgresStore(config);
    const reader = await openPostgresStore(config);
    try {
      const received: RecordedEvent[] = [];
      let caughtUp!: () => void;
      const ready = new Promise<void>((resolve) => {
        caughtUp = resolve;
      });
      let done!: () => void;
      const all = new Promise<void>((resolve) => {
        done = resolve;
      });
      const subscription = reader.subscribe({ onCaughtUp: () => caughtUp() }, (event) => {
        received.push(event);
        if (received.length === 3) done();
      });
      await ready;
      for (let i = 0; i < 3; i++) await writer.append('s', [{ type: 'Pinged', data: i }]);
      await Promise.race([
        all,
        new Promise((_, reject) => setTimeout(() => reject(new Error('no notification arrived')), 15_000)),
      ]);
      await subscription.close();
      expect(received.map((e) => e.data)).toEqual([0, 1, 2]);
    } finally {
      await writer.close();
      await reader.close();
    }
    // Closing released the listening connections (a backend may take a moment to exit).
    let listening: unknown[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      listening = await adminQuery(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'ordo-listen' AND query LIKE $1",
        [`LISTEN "ordo_${schema}"%`],
      );
      if (listening.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(listening).toEqual([]);
  });

  it('refuses notify with an injected pool', async () => {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 1 });
    try {
      await expect(openPostgresStore({ pool, schema, notify: true })).rejects.toBeInstanceOf(
        InvalidInputError,
      );
    } finally {
      await pool.end();
    }
  });
});
