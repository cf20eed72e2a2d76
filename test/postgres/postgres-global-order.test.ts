import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/backends/postgres/index.js';
import { InvalidInputError } from '../../src/core/errors.js';
import { comparePositions } from '../../src/core/position.js';
import type { EventStore, NewEvent, RecordedEvent } from '../../src/core/types.js';
import { describeWithService, postgresUrl } from '../support/services.js';
import { dropSchema, randomSchema } from './postgres-test-schema.js';
import { runWorker } from './run-worker.js';

const schema = randomSchema('ordo_order');

/** Resolves once `done()` holds, checking on every call of the returned `check`; rejects after `ms`. */
function waitFor(done: () => boolean, ms: number): { promise: Promise<void>; check: () => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(() => reject(new Error(`condition not reached within ${ms} ms`)), ms);
  const check = () => {
    if (done()) {
      clearTimeout(timer);
      resolve();
    }
  };
  return { promise, check };
}

describeWithService('postgres', 'postgres global order', () => {
  let root: EventStore;
  beforeAll(async () => {
    root = await openPostgresStore({ connectionString: postgresUrl, schema, pollIntervalMs: 20 });
  });
  afterAll(async () => {
    await root?.close();
    await dropSchema(schema);
  });

  const fresh = () => root.withNamespace(`o${randomUUID().replaceAll('-', '').slice(0, 16)}`);

  it('a subscriber gets every committed event exactly once, in order, while 8 writers commit out of order', async () => {
    const store = fresh();
    const received: RecordedEvent[] = [];
    const outOfOrder: string[] = [];
    let expected = Number.POSITIVE_INFINITY;
    const all = waitFor(() => received.length >= expected, 40_000);
    const subscription = store.subscribe({}, (event) => {
      const previous = received[received.length - 1];
      if (previous && comparePositions(previous.position, event.position) >= 0) {
        outOfOrder.push(
          `${previous.position} ${previous.streamId}@${previous.version} then ${event.position} ${event.streamId}@${event.version} (#${received.length})`,
        );
      }
      received.push(event);
      all.check();
    });
    // A reader polling readAll alongside, as a projection would.
    let polling = true;
    const polled: RecordedEvent[] = [];
    const poller = (async () => {
      let after = '0';
      while (polling) {
        const batch = await store.readAll({ after, limit: 50 });
        polled.push(...batch);
        if (batch.length > 0) after = batch[batch.length - 1]!.position;
        else await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, writer) =>
        runWorker<{ committed: string[]; rolledBack: number }>('gap-writer', {
          connectionString: postgresUrl,
          schema,
          namespace: store.namespace,
          writer,
          transactions: 30,
        }),
      ),
    );
    const committed = results.flatMap((r) => r.committed);
    expected = committed.length;
    all.check();
    await all.promise;
    polling = false;
    await poller;
    // Anything delivered late would show up in these reads too.
    const tail = await store.readAll({ after: received[received.length - 1]!.position });
    await subscription.close();

    expect(outOfOrder).toEqual([]);
    expect(tail).toEqual([]);
    expect(received.map((e) => e.id).sort()).toEqual([...committed].sort());
    expect(new Set(received.map((e) => e.position)).size).toBe(received.length);
    // The poller must have seen the same sequence, with nothing skipped or repeated.
    const polledIds = polled.map((e) => e.id);
    expect(polledIds).toEqual(received.slice(0, polledIds.length).map((e) => e.id));
    // Within a writer's stream, versions are contiguous: rolled-back appends left no holes.
    for (let writer = 0; writer < 8; writer++) {
      const versions = (await store.readStream(`writer-${writer}`)).map((e) => e.version);
      expect(versions).toEqual(versions.map((_, i) => i + 1));
    }
  });

  it('an append inside a caller transaction holds back later commits until it commits, then both arrive in order', async () => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    const namespace = `o${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const inTransaction = await openPostgresStore({ pool: client, schema, namespace, migrate: false });
    const store = root.withNamespace(namespace);
    // This reader does not wait for transactions in flight, so the hold-back shows directly.
    const reader = await openPostgresStore({
      connectionString: postgresUrl,
      schema,
      namespace,
      migrate: false,
      visibilityWaitMs: 0,
    });
    try {
      await store.append('before', [{ type: 'Before', data: {} }]);
      const head = await reader.headPosition();
      await client.query('BEGIN');
      const early = await inTransaction.append('early', [{ type: 'Early', data: {} }]);
      // The caller's transaction goes on (as an inline projection would) while another commits.
      await client.query('SELECT pg_sleep(0.05)');
      const late = await store.append('late', [{ type: 'Late', data: {} }]);
      expect(comparePositions(early.position, late.position)).toBeLessThan(0);
      // `late` is committed, but delivering it now would put it before `early`: readers wait.
      expect(await reader.readAll({ after: head })).toEqual([]);
      expect(await reader.headPosition()).toBe(head);
      await client.query('COMMIT');
      const after = await reader.readAll({ after: head });
      expect(after.map((e) => e.type)).toEqual(['Early', 'Late']);
      expect(await reader.headPosition()).toBe(late.position);
    } finally {
      await client.query('ROLLBACK').catch(() => {});
      await inTransaction.close();
      await reader.close();
      await client.end();
    }
  });

  it('a global read waits for older open transactions, so it sees every append acknowledged before it', async () => {
    const store = fresh();
    // Another store (its own pool), as another process would read.
    const other = await openPostgresStore({
      connectionString: postgresUrl,
      schema,
      namespace: store.namespace,
      migrate: false,
    });
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      // An unrelated transaction with an older id holds the visibility horizon.
      await admin.query('BEGIN');
      await admin.query('SELECT pg_current_xact_id()');
      const appended = await store.append('mine', [{ type: 'Mine', data: {} }]);
      let committed = false;
      const reads = Promise.all([store.readAll(), other.readAll(), other.headPosition()]).then((results) => ({
        results,
        committed,
      }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      committed = true;
      await admin.query('COMMIT');
      const { results, committed: afterCommit } = await reads;
      expect(afterCommit).toBe(true);
      expect(results[0].map((e) => e.position)).toEqual([appended.position]);
      expect(results[1].map((e) => e.position)).toEqual([appended.position]);
      expect(results[2]).toBe(appended.position);
    } finally {
      await admin.query('ROLLBACK').catch(() => {});
      await admin.end();
      await other.close();
    }
  });

  it('refuses an append in a transaction that already has an id, writing nothing', async () => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    const namespace = `o${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const inTransaction = await openPostgresStore({ pool: client, schema, namespace, migrate: false });
    try {
      // Both append paths refuse: the single-statement one and the function (batches, tags).
      const attempts: NewEvent[][] = [
        [{ type: 'A', data: {} }],
        [
          { type: 'A', data: {}, tags: ['t'] },
          { type: 'B', data: {} },
        ],
      ];
      for (const events of attempts) {
        await client.query('BEGIN');
        await client.query('SELECT pg_current_xact_id()');
        await expect(inTransaction.append('s', events)).rejects.toBeInstanceOf(InvalidInputError);
        await client.query('ROLLBACK');
      }
      // A second append in one transaction is refused too: the first one took the id.
      await client.query('BEGIN');
      await inTransaction.append('s', [{ type: 'A', data: {} }]);
      await expect(inTransaction.append('s', [{ type: 'B', data: {} }])).rejects.toBeInstanceOf(
        InvalidInputError,
      );
      await client.query('ROLLBACK');
      expect(await root.withNamespace(namespace).streamVersion('s')).toBe(0);
    } finally {
      await client.query('ROLLBACK').catch(() => {});
      await inTransaction.close();
      await client.end();
    }
  });

  it('positions of a batch follow its versions and readAll resumes exactly after any position', async () => {
    const store = fresh();
    await store.append(
      'a',
      Array.from({ length: 5 }, (_, i) => ({ type: 'T', data: i })),
    );
    await store.append(
      'b',
      Array.from({ length: 3 }, (_, i) => ({ type: 'T', data: i })),
    );
    const all = await store.readAll();
    expect(all.map((e) => `${e.streamId}${e.version}`)).toEqual([
      'a1',
      'a2',
      'a3',
      'a4',
      'a5',
      'b1',
      'b2',
      'b3',
    ]);
    for (let i = 0; i < all.length; i++) {
      expect((await store.readAll({ after: all[i]!.position })).map((e) => e.id)).toEqual(
        all.slice(i + 1).map((e) => e.id),
      );
    }
    // A position's transaction part alone is before every event of that transaction.
    const txOnly = all[0]!.position.split('.')[0]!;
    expect((await store.readAll({ after: txOnly })).map((e) => e.id)).toEqual(all.map((e) => e.id));
  });
});
