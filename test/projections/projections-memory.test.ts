import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createInMemoryStore, InvalidInputError } from '../../src/index.js';
import {
  createProjectionRegistry,
  defineProjection,
  LeaseLostError,
  LockAbortedError,
  LockRetriesExhaustedError,
  MemoryProjectionStorage,
  ProjectionHandlerError,
  ProjectionRunner,
  UnknownProjectionError,
  withLockOn,
} from '../../src/projections/index.js';
import { type CustomerDoc, cancelled, customerTotals, type OrderEvents, placed } from './fixtures.js';

describe('defineProjection', () => {
  it('rejects bad definitions with InvalidInputError', () => {
    const handlers = { A: () => undefined };
    expect(() => defineProjection({ name: '', version: 1, handlers })).toThrow(InvalidInputError);
    expect(() => defineProjection({ name: 'a b', version: 1, handlers })).toThrow(InvalidInputError);
    expect(() => defineProjection({ name: 'x', version: 0, handlers })).toThrow(InvalidInputError);
    expect(() => defineProjection({ name: 'x', version: 1, handlers: {} })).toThrow(InvalidInputError);
    expect(() => defineProjection({ name: 'x', version: 1, handlers: { A: 3 as never } })).toThrow(
      InvalidInputError,
    );
    expect(() => defineProjection({ name: 'x', version: 1, query: { types: ['B'] }, handlers })).toThrow(
      /no handler/,
    );
  });

  it('derives the query from the handler keys', () => {
    const p = defineProjection({
      name: 'x',
      version: 2,
      handlers: { A: () => undefined, B: () => undefined },
    });
    expect(p.query).toEqual([{ types: ['A', 'B'] }]);
    expect(p.mode).toBe('async');
    expect(p.init()).toBeNull();
  });
});

describe('async projections on memory', () => {
  it('catches up, keeps documents and state, and follows live appends', async () => {
    const store = createInMemoryStore();
    await store.append('o-1', [placed('1', 'ann', 10), placed('2', 'bob', 5)]);
    await store.append('other', [{ type: 'Unrelated', data: {} }]);
    const registry = createProjectionRegistry({ store, projections: [customerTotals()], leaseTtlMs: 500 });
    await registry.start();
    try {
      await registry.waitForCatchUp({ timeoutMs: 5_000 });
      const docs = registry.documents<CustomerDoc>('customer-totals');
      expect(await docs.get('ann')).toEqual({ customer: 'ann', orders: 1, total: 10 });
      await store.append('o-2', [placed('3', 'ann', 7), cancelled('2', 'bob', 5)]);
      await registry.waitForCatchUp({ timeoutMs: 5_000 });
      expect(await docs.get('ann')).toEqual({ customer: 'ann', orders: 2, total: 17 });
      expect(await docs.get('bob')).toEqual({ customer: 'bob', orders: 0, total: 0 });
      expect((await docs.find()).map((d) => d.id)).toEqual(['ann', 'bob']);
      expect((await docs.find({ after: 'ann' })).map((d) => d.id)).toEqual(['bob']);
      expect(await registry.state('customer-totals')).toEqual({ count: 2 });
      const status = await registry.status('customer-totals');
      expect(status).toMatchObject({
        state: 'running',
        processed: 4,
        lagEvents: 0,
        lagMs: 0,
        lastError: null,
        leaseHeld: true,
      });
      expect(status.position).toBe(await store.headPosition());
      expect(registry.list()).toEqual([{ name: 'customer-totals', version: 1, mode: 'async' }]);
    } finally {
      await registry.stop();
    }
    expect((await registry.status('customer-totals')).state).toBe('stopped');
  });

  it('resumes from the checkpoint after a restart without re-applying events', async () => {
    const store = createInMemoryStore();
    const storageRegistry = createProjectionRegistry({ store, projections: [customerTotals()] });
    await store.append('o', [placed('1', 'ann', 10)]);
    await storageRegistry.start();
    await storageRegistry.waitForCatchUp({ timeoutMs: 5_000 });
    await storageRegistry.stop();
    await store.append('o', [placed('2', 'ann', 1)]);
    const second = createProjectionRegistry({ store, projections: [customerTotals()] });
    expect((await second.status('customer-totals')).lagEvents).toBe(1);
    await second.start();
    await second.waitForCatchUp({ timeoutMs: 5_000 });
    expect(await second.documents('customer-totals').get('ann')).toEqual({
      customer: 'ann',
      orders: 2,
      total: 11,
    });
    expect((await second.status('customer-totals')).processed).toBe(2);
    await second.stop();
  });

  it('stops on a throwing handler with the error and event visible, then resumes on restart', async () => {
    const store = createInMemoryStore();
    await store.append('o', [placed('1', 'ann', 1), placed('bad', 'ann', 2), placed('3', 'ann', 4)]);
    let failOn = 'bad';
    const projection = customerTotals(1);
    const failing = defineProjection<{ count: number }, CustomerDoc, OrderEvents>({
      ...projection,
      handlers: {
        ...projection.handlers,
        OrderPlaced: async (state, event, ctx) => {
          if (event.data.orderId === failOn) {
            ctx.docs.put('should-not-exist', { customer: 'x', orders: 0, total: 0 });
            throw new Error('boom');
          }
          return projection.handlers.OrderPlaced!(state, event, ctx);
        },
      },
    });
    const registry = createProjectionRegistry({ store, projections: [failing] });
    await registry.start();
    await expect(registry.waitForCatchUp({ timeoutMs: 5_000 })).rejects.toThrow(/failed/);
    const status = await registry.status('customer-totals');
    expect(status.state).toBe('failed');
    expect(status.processed).toBe(1);
    expect(status.lagEvents).toBe(2);
    expect(status.lastError).toMatchObject({
      code: 'PROJECTION_HANDLER_FAILED',
      event: { streamId: 'o', version: 2 },
    });
    expect(status.lastError?.message).toMatch(/boom/);
    expect(await registry.documents('customer-totals').get('should-not-exist')).toBeUndefined();
    failOn = 'none';
    await registry.restart('customer-totals');
    await registry.waitForCatchUp({ timeoutMs: 5_000 });
    expect(await registry.documents('customer-totals').get('ann')).toMatchObject({ orders: 3, total: 7 });
    expect((await registry.status('customer-totals')).lastError).toBeNull();
    await registry.stop();
  });

  it('fails visibly when a handler returns a state that is not JSON', async () => {
    const store = createInMemoryStore();
    await store.append('o', [placed('1', 'ann', 1)]);
    const bad = defineProjection<{ n: number }>({
      name: 'bad-state',
      version: 1,
      init: () => ({ n: 0 }),
      handlers: { OrderPlaced: () => ({ n: Number.NaN }) },
    });
    const registry = createProjectionRegistry({ store, projections: [bad] });
    await registry.start();
    await expect(registry.waitForCatchUp({ timeoutMs: 5_000 })).rejects.toThrow(/failed/);
    const status = await registry.status('bad-state');
    expect(status).toMatchObject({ state: 'failed', processed: 0, lastError: { code: 'INVALID_INPUT' } });
    await registry.stop();
  });

  it('parks a failing event when asked and keeps going', async () => {
    const store = createInMemoryStore();
    await store.append('o', [placed('1', 'ann', 1), placed('bad', 'ann', 2), placed('3', 'ann', 4)]);
    const registry = createProjectionRegistry({
      store,
      projections: [customerTotals(1, { failOn: 'bad', onError: 'park' })],
    });
    await registry.start();
    await registry.waitForCatchUp({ timeoutMs: 5_000 });
    const status = await registry.status('customer-totals');
    expect(status.state).toBe('running');
    expect(status.parked).toHaveLength(1);
    expect(status.parked[0]).toMatchObject({ streamId: 'o', version: 2, type: 'OrderPlaced' });
    expect(status.parked[0]!.error).toMatch(/bad order/);
    expect(await registry.documents('customer-totals').get('ann')).toMatchObject({ orders: 2, total: 5 });
    await registry.stop();
  });

  it('rebuilds blue/green: readers see the old generation until the swap, progress is reported', async () => {
    const store = createInMemoryStore();
    for (let i = 0; i < 30; i++) await store.append(`o-${i}`, [placed(String(i), `c${i % 3}`, 1)]);
    const v1 = createProjectionRegistry({ store, projections: [customerTotals(1)], batchSize: 7 });
    await v1.start();
    await v1.waitForCatchUp({ timeoutMs: 5_000 });
    await v1.stop();
    // Version 2 doubles totals: the registry rebuilds beside generation 1.
    const v2 = createProjectionRegistry({ store, projections: [customerTotals(2)], batchSize: 7 });
    const progress: Array<{ processed: number; total: number }> = [];
    const readsDuringRebuild: unknown[] = [];
    const result = await v2.rebuild('customer-totals', {
      onProgress: (p) => {
        progress.push({ processed: p.processed, total: p.total });
        if (p.processed < p.total)
          readsDuringRebuild.push(v2.documents<CustomerDoc>('customer-totals').get('c0'));
      },
    });
    expect(result).toMatchObject({ generation: 2, version: 2, processed: 30 });
    expect(progress[0]).toEqual({ processed: 0, total: 30 });
    expect(progress.at(-1)).toEqual({ processed: 30, total: 30 });
    expect(progress.map((p) => p.processed)).toEqual(
      [...progress.map((p) => p.processed)].sort((a, b) => a - b),
    );
    for (const read of await Promise.all(readsDuringRebuild)) expect(read).toMatchObject({ total: 10 });
    expect(await v2.documents<CustomerDoc>('customer-totals').get('c0')).toMatchObject({ total: 20 });
    expect((await v2.status('customer-totals')).generation).toBe(2);
  });

  it('stops a running rebuild on stop() and keeps readers on the live generation', async () => {
    const store = createInMemoryStore();
    for (let i = 0; i < 20; i++) await store.append(`o-${i}`, [placed(String(i), 'ann', 1)]);
    const v1 = createProjectionRegistry({ store, projections: [customerTotals(1)] });
    await v1.start();
    await v1.waitForCatchUp({ timeoutMs: 5_000 });
    await v1.stop();
    let stopping: Promise<void> | undefined;
    const slow = defineProjection<{ count: number }, CustomerDoc, OrderEvents>({
      ...customerTotals(2),
      handlers: {
        ...customerTotals(2).handlers,
        OrderPlaced: async (state, event, ctx) => {
          // Stop the registry in the middle of the rebuild.
          if (event.data.orderId === '5') stopping ??= v2.stop();
          return customerTotals(2).handlers.OrderPlaced!(state, event, ctx);
        },
      },
    });
    const v2 = createProjectionRegistry({ store, projections: [slow], batchSize: 2 });
    const error = await v2.rebuild('customer-totals').catch((e: unknown) => e);
    await stopping;
    expect(error).toMatchObject({ code: 'REBUILD_STOPPED' });
    const status = await v2.status('customer-totals');
    expect(status.generation).toBe(1);
    expect(await v2.documents<CustomerDoc>('customer-totals').get('ann')).toMatchObject({
      orders: 20,
      total: 20,
    });
  });

  it('rebuilds automatically on start when the version changed', async () => {
    const store = createInMemoryStore();
    await store.append('o', [placed('1', 'ann', 3)]);
    const v1 = createProjectionRegistry({ store, projections: [customerTotals(1)] });
    await v1.start();
    await v1.waitForCatchUp({ timeoutMs: 5_000 });
    await v1.stop();
    const v2 = createProjectionRegistry({ store, projections: [customerTotals(3)] });
    await v2.start();
    await expect
      .poll(async () => (await v2.status('customer-totals')).generation, { timeout: 5_000 })
      .toBe(2);
    await v2.waitForCatchUp({ timeoutMs: 5_000 });
    expect(await v2.documents<CustomerDoc>('customer-totals').get('ann')).toMatchObject({ total: 9 });
    await v2.stop();
  });

  it('ends a runner when the store is closed under it', async () => {
    const store = createInMemoryStore();
    await store.append('o', [placed('1', 'ann', 1)]);
    const runner = new ProjectionRunner({
      store,
      storage: new MemoryProjectionStorage(),
      projection: customerTotals(),
      generation: 1,
      owner: 'me',
      leaseTtlMs: 1_000,
      batchSize: 10,
      pollIntervalMs: 10,
    });
    runner.start();
    await runner.waitForCatchUp(5_000);
    expect(runner.processed).toBe(1);
    await store.close();
    await runner.done; // resolves: the loop ended instead of retrying forever
    expect(runner.holdsLease).toBe(false);
  });

  it('refuses to install one inline projection twice on the same store', async () => {
    const store = createInMemoryStore();
    const inline = defineProjection({ ...customerTotals(), name: 'inline-x', mode: 'inline' });
    const registry = createProjectionRegistry({ store, projections: [customerTotals(), inline] });
    await registry.start();
    const second = createProjectionRegistry({ store, projections: [inline] });
    await expect(second.start()).rejects.toThrow(InvalidInputError);
    await store.append('o', [placed('1', 'ann', 1)]);
    expect(await registry.documents('inline-x').get('ann')).toMatchObject({ orders: 1 });
    await registry.stop();
  });

  it('names unknown projections with a typed error', async () => {
    const registry = createProjectionRegistry({
      store: createInMemoryStore(),
      projections: [customerTotals()],
    });
    await expect(registry.status('nope')).rejects.toThrow(UnknownProjectionError);
    expect(() => registry.documents('nope')).toThrow(UnknownProjectionError);
    expect(() =>
      createProjectionRegistry({
        store: createInMemoryStore(),
        projections: [customerTotals(), customerTotals()],
      }),
    ).toThrow(InvalidInputError);
  });
});

describe('memory projection storage leases', () => {
  it('lets one owner hold a lease, hands it over after expiry with a higher token and fences the old one', async () => {
    const storage = new MemoryProjectionStorage();
    const first = await storage.acquireLease('p#1', 'A', 20);
    expect(first).toMatchObject({ key: 'p#1', owner: 'A', token: 1 });
    expect(await storage.acquireLease('p#1', 'B', 1_000)).toBeNull();
    await delay(50);
    const second = await storage.acquireLease('p#1', 'B', 1_000);
    expect(second?.token).toBe(2);
    const commit = {
      checkpoint: { position: '1', state: '1', processed: 1, parked: '', updatedAt: 0 },
      documents: new Map([['d', '1']]),
    };
    await expect(storage.commit('p#1', { ...commit, lease: first! })).rejects.toThrow(LeaseLostError);
    expect(await storage.readCheckpoint('p#1')).toBeNull();
    expect(await storage.renewLease(first!, 1_000)).toBe(false);
    await storage.commit('p#1', { ...commit, lease: second! });
    expect(await storage.readDocument('p#1', 'd')).toBe('1');
  });

  it('runs exactly one of two registries over the same store', async () => {
    const store = createInMemoryStore();
    const storage = new MemoryProjectionStorage();
    await store.append('o', [placed('1', 'ann', 1)]);
    const a = createProjectionRegistry({ store, storage, projections: [customerTotals()], leaseTtlMs: 200 });
    const b = createProjectionRegistry({ store, storage, projections: [customerTotals()], leaseTtlMs: 200 });
    await a.start();
    await a.waitForCatchUp({ timeoutMs: 5_000 });
    await b.start();
    await expect
      .poll(async () => (await b.status('customer-totals')).state, { timeout: 5_000 })
      .toBe('standby');
    expect((await a.status('customer-totals')).leaseHeld).toBe(true);
    await a.stop();
    await expect
      .poll(async () => (await b.status('customer-totals')).leaseHeld, { timeout: 5_000 })
      .toBe(true);
    await store.append('o', [placed('2', 'ann', 1)]);
    await b.waitForCatchUp({ timeoutMs: 5_000 });
    expect(await b.documents('customer-totals').get('ann')).toMatchObject({ orders: 2 });
    await b.stop();
  });
});

describe('inline projections on memory', () => {
  const inline = (failOn?: string) => {
    const base = customerTotals(1, failOn ? { failOn } : {});
    return defineProjection({ ...base, name: 'inline-totals', mode: 'inline' });
  };

  it('updates the read model in the append and fails the append when a handler throws', async () => {
    const store = createInMemoryStore();
    const registry = createProjectionRegistry({ store, projections: [inline('bad')] });
    await registry.start();
    await store.append('o', [placed('1', 'ann', 2)]);
    // Read right after the append: no waiting needed, the read model was written with it.
    expect(await registry.documents('inline-totals').get('ann')).toEqual({
      customer: 'ann',
      orders: 1,
      total: 2,
    });
    await expect(store.append('o', [placed('2', 'ann', 1), placed('bad', 'bob', 1)])).rejects.toThrow(
      ProjectionHandlerError,
    );
    expect(await store.streamVersion('o')).toBe(1);
    expect(await registry.documents('inline-totals').get('ann')).toEqual({
      customer: 'ann',
      orders: 1,
      total: 2,
    });
    expect(await registry.documents('inline-totals').get('bob')).toBeUndefined();
    const status = await registry.status('inline-totals');
    expect(status).toMatchObject({ mode: 'inline', state: 'running', processed: 1, lagEvents: 0 });
    await registry.stop();
    await store.append('o', [placed('3', 'ann', 1)]);
    expect(await registry.documents('inline-totals').get('ann')).toMatchObject({ orders: 1 });
  });

  it('keeps appends of concurrent writers consistent', async () => {
    const store = createInMemoryStore();
    const registry = createProjectionRegistry({ store, projections: [inline()] });
    await registry.start();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.append(`o-${i}`, [placed(String(i), 'ann', 1)])),
    );
    expect(await registry.documents('inline-totals').get('ann')).toMatchObject({ orders: 20, total: 20 });
    expect(await registry.state('inline-totals')).toEqual({ count: 20 });
    await registry.stop();
  });
});

describe('withLockOn on memory', () => {
  const usernames = defineProjection<string[], { taken: true }>({
    name: 'usernames',
    version: 1,
    init: () => [],
    handlers: { UserRegistered: (names, event) => [...names, (event.data as { name: string }).name] },
  });

  it('publishes on an up-to-date view and returns the published events to onSuccess', async () => {
    const store = createInMemoryStore();
    const ids = await withLockOn(store, usernames).attempt(
      (names, tx) => {
        expect(names).toEqual([]);
        tx.publish('user-1', { type: 'UserRegistered', data: { name: 'ann' } });
        tx.publish('user-1', [{ type: 'PasswordSet', data: { hash: 'x' } }]);
      },
      (published) => published.map((e) => `${e.type}@${e.version}`),
    );
    expect(ids).toEqual(['UserRegistered@1', 'PasswordSet@2']);
    const names = await withLockOn(store, usernames).attempt((view) => view);
    expect(names).toEqual(['ann']);
  });

  it('aborts without retrying and rejects publishing to two streams', async () => {
    const store = createInMemoryStore();
    let calls = 0;
    await expect(
      withLockOn(store, usernames)
        .retries(5)
        .attempt((_names, tx) => {
          calls += 1;
          tx.abort('taken');
        }),
    ).rejects.toThrow(LockAbortedError);
    expect(calls).toBe(1);
    await expect(
      withLockOn(store, usernames).attempt((_n, tx) => {
        tx.publish('a', { type: 'UserRegistered', data: { name: 'a' } });
        tx.publish('b', { type: 'UserRegistered', data: { name: 'b' } });
      }),
    ).rejects.toThrow(InvalidInputError);
    expect(await store.headPosition()).toBe('0');
  });

  it('retries with a fresh view when a matching event lands in between, and gives up with a typed error', async () => {
    const store = createInMemoryStore();
    let calls = 0;
    const result = await withLockOn(store, usernames)
      .retries(3)
      .intervalMillis(1)
      .attempt(async (names, tx) => {
        calls += 1;
        if (calls === 1) await store.append('user-x', [{ type: 'UserRegistered', data: { name: 'bob' } }]);
        if (names.includes('bob')) tx.abort('bob taken');
        tx.publish('user-y', { type: 'UserRegistered', data: { name: 'bob' } });
        return names.length;
      })
      .catch((error: unknown) => error);
    expect(result).toBeInstanceOf(LockAbortedError);
    expect(calls).toBe(2);

    let attempts = 0;
    const error = await withLockOn(store, usernames)
      .retries(2)
      .attempt(async (_names, tx) => {
        attempts += 1;
        await store.append(`interferer-${attempts}`, [
          { type: 'UserRegistered', data: { name: `n${attempts}` } },
        ]);
        tx.publish('loser', { type: 'UserRegistered', data: { name: 'zed' } });
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockRetriesExhaustedError);
    expect((error as LockRetriesExhaustedError).code).toBe('LOCK_RETRIES_EXHAUSTED');
    expect(attempts).toBe(3);
    expect(await store.streamVersion('loser')).toBe(0);
  });

  it('locks on a plain query: the view is the matching events', async () => {
    const store = createInMemoryStore();
    await store.append('s', [{ type: 'Seat', data: { n: 1 }, tags: ['hall:1'] }]);
    const count = await withLockOn(store, { types: ['Seat'], tags: ['hall:1'] }).attempt((events, tx) => {
      tx.publish('s', { type: 'Seat', data: { n: 2 }, tags: ['hall:1'] });
      return events.length;
    });
    expect(count).toBe(1);
    expect(await store.streamVersion('s')).toBe(2);
  });
});
