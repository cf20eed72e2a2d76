import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { EventStore } from '../../src/index.js';
import {
  createProjectionRegistry,
  defineProjection,
  type Lease,
  LeaseLostError,
  LockRetriesExhaustedError,
  ProjectionHandlerError,
  projectionStorageFor,
  withLockOn,
} from '../../src/projections/index.js';
import { type CustomerDoc, customerTotals, type OrderEvents, placed } from './fixtures.js';

export interface ProjectionSuiteConfig {
  /** Opens a store over the same database every time (reopening must see earlier data). */
  open: () => Promise<EventStore>;
  /** Whether inline handlers in this suite are written synchronously (SQLite) or async. */
  inline: 'sync' | 'async' | 'unsupported';
  /** How a holder loses its lease: TTL expiry (rows) or the end of its session (advisory locks). */
  leaseLoss: 'expiry' | 'session';
}

/** Projection behaviour every durable backend must show; call inside a `describe`. */
export function projectionSuite(config: ProjectionSuiteConfig): void {
  let base: EventStore;
  const stores: EventStore[] = [];
  const fresh = () => base.withNamespace(`p${randomUUID().slice(0, 8)}`);

  beforeAll(async () => {
    base = await config.open();
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await base?.close();
  });

  it('catches up, checkpoints atomically and resumes after reopening the store', async () => {
    const store = fresh();
    await store.append('o-1', [placed('1', 'ann', 10), placed('2', 'bob', 5)]);
    const first = createProjectionRegistry({ store, projections: [customerTotals()], batchSize: 1 });
    await first.start();
    await first.waitForCatchUp({ timeoutMs: 10_000 });
    expect(await first.documents<CustomerDoc>('customer-totals').get('ann')).toEqual({
      customer: 'ann',
      orders: 1,
      total: 10,
    });
    await first.stop();
    await store.append('o-2', [placed('3', 'ann', 1)]);
    // A new connection: everything comes from the database.
    const reopened = (await config.open()).withNamespace(store.namespace);
    stores.push(reopened);
    const second = createProjectionRegistry({ store: reopened, projections: [customerTotals()] });
    const before = await second.status('customer-totals');
    expect(before).toMatchObject({ state: 'stopped', processed: 2, lagEvents: 1 });
    expect(before.lagMs).toBeGreaterThanOrEqual(0);
    await second.start();
    await second.waitForCatchUp({ timeoutMs: 10_000 });
    expect(await second.documents<CustomerDoc>('customer-totals').get('ann')).toEqual({
      customer: 'ann',
      orders: 2,
      total: 11,
    });
    expect(await second.state('customer-totals')).toEqual({ count: 3 });
    const after = await second.status('customer-totals');
    expect(after).toMatchObject({
      state: 'running',
      processed: 3,
      lagEvents: 0,
      leaseHeld: true,
      position: await reopened.headPosition(),
    });
    await second.stop();
  });

  it('stops on a failing handler with the event in the status, visible from another registry', async () => {
    const store = fresh();
    await store.append('o', [placed('1', 'ann', 1), placed('bad', 'ann', 2)]);
    const runner = createProjectionRegistry({ store, projections: [customerTotals(1, { failOn: 'bad' })] });
    await runner.start();
    await expect(runner.waitForCatchUp({ timeoutMs: 10_000 })).rejects.toThrow(/failed/);
    const observer = createProjectionRegistry({ store, projections: [customerTotals()] });
    const status = await observer.status('customer-totals');
    expect(status.state).toBe('failed');
    expect(status.processed).toBe(1);
    expect(status.lastError).toMatchObject({
      code: 'PROJECTION_HANDLER_FAILED',
      event: { streamId: 'o', version: 2 },
    });
    await runner.stop();
  });

  it('rebuilds blue/green into a new generation and drops the old one', async () => {
    const store = fresh();
    for (let i = 0; i < 20; i++) await store.append(`o-${i}`, [placed(String(i), `c${i % 2}`, 1)]);
    const v1 = createProjectionRegistry({ store, projections: [customerTotals(1)], leaseTtlMs: 200 });
    await v1.start();
    await v1.waitForCatchUp({ timeoutMs: 10_000 });
    const v2 = createProjectionRegistry({ store, projections: [customerTotals(2)], batchSize: 3 });
    const seen: number[] = [];
    const result = await v2.rebuild('customer-totals', { onProgress: (p) => seen.push(p.processed) });
    expect(result).toMatchObject({ generation: 2, processed: 20 });
    expect(seen.at(-1)).toBe(20);
    expect(await v2.documents<CustomerDoc>('customer-totals').get('c0')).toMatchObject({ total: 20 });
    // Readers of any registry see the new generation.
    expect(
      await createProjectionRegistry({ store, projections: [customerTotals(2)] })
        .documents<CustomerDoc>('customer-totals')
        .get('c1'),
    ).toMatchObject({ total: 20 });
    // The v1 registry (older handlers) notices the switch, stops its runner and drops the old
    // generation: an event appended afterwards must not recreate generation 1.
    await store.append('o-late', [placed('late', 'c0', 1)]);
    // Its readers move to generation 2 (nobody runs v2 here, so the late event is not in it) ...
    await expect
      .poll(async () => (await v1.documents<CustomerDoc>('customer-totals').get('c0'))?.total, {
        timeout: 10_000,
      })
      .toBe(20);
    // ... and generation 1 is gone for good, even though v1's runner saw the late event.
    const storage = await projectionStorageFor(store);
    await expect.poll(() => storage.readCheckpoint('customer-totals#1'), { timeout: 10_000 }).toBeNull();
    expect((await v1.status('customer-totals')).state).toBe('stopped');
    await v1.stop();
  });

  if (config.inline !== 'unsupported') {
    it('runs inline projections in the append transaction; a failing handler fails the append', async () => {
      const store = fresh();
      const inline = defineProjection<{ count: number }, CustomerDoc, OrderEvents>({
        name: 'inline-totals',
        version: 1,
        mode: 'inline',
        init: () => ({ count: 0 }),
        handlers: {
          OrderPlaced:
            config.inline === 'sync'
              ? (state, event, { docs }) => {
                  if (event.data.orderId === 'bad') throw new Error('rejected');
                  const doc = docs.getSync(event.data.customer) ?? {
                    customer: event.data.customer,
                    orders: 0,
                    total: 0,
                  };
                  docs.put(event.data.customer, {
                    ...doc,
                    orders: doc.orders + 1,
                    total: doc.total + event.data.total,
                  });
                  return { count: state.count + 1 };
                }
              : async (state, event, { docs }) => {
                  if (event.data.orderId === 'bad') throw new Error('rejected');
                  const doc = (await docs.get(event.data.customer)) ?? {
                    customer: event.data.customer,
                    orders: 0,
                    total: 0,
                  };
                  docs.put(event.data.customer, {
                    ...doc,
                    orders: doc.orders + 1,
                    total: doc.total + event.data.total,
                  });
                  return { count: state.count + 1 };
                },
        },
      });
      const registry = createProjectionRegistry({ store, projections: [inline] });
      await registry.start();
      await store.append('o', [placed('1', 'ann', 2), placed('2', 'ann', 3)]);
      expect(await registry.documents('inline-totals').get('ann')).toEqual({
        customer: 'ann',
        orders: 2,
        total: 5,
      });
      await expect(store.append('o', [placed('3', 'bob', 1), placed('bad', 'bob', 1)])).rejects.toThrow(
        ProjectionHandlerError,
      );
      expect(await store.streamVersion('o')).toBe(2);
      expect(await registry.documents('inline-totals').get('bob')).toBeUndefined();
      expect(await registry.state('inline-totals')).toEqual({ count: 2 });
      // Concurrent appends on separate streams: no update of the shared state or document is lost.
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => store.append(`c-${i}`, [placed(`c${i}`, 'cat', 1)])),
      );
      expect(await registry.state('inline-totals')).toEqual({ count: 14 });
      expect(await registry.documents('inline-totals').get('cat')).toEqual({
        customer: 'cat',
        orders: 12,
        total: 12,
      });
      await registry.stop();
    });
  }

  it('fences off a stale lease holder: its commit is refused and writes nothing', async () => {
    const store = fresh();
    const storage = await projectionStorageFor(store);
    const stale = await storage.acquireLease('fence#1', 'A', 5_000);
    expect(stale).not.toBeNull();
    expect(await storage.acquireLease('fence#1', 'B', 5_000)).toBeNull();
    if (config.leaseLoss === 'expiry') {
      // A stops renewing: shorten its lease and let it expire.
      expect(await storage.renewLease(stale!, 30)).toBe(true);
      await delay(80);
    } else {
      // Connection-bound leases end with the holder's session; releasing stands in for that here.
      await storage.releaseLease(stale!);
    }
    const current = await storage.acquireLease('fence#1', 'B', 5_000);
    expect(current!.token).toBeGreaterThan(stale!.token);
    const commit = (lease: Lease, doc: string) => ({
      checkpoint: { position: '1', state: 'null', processed: 1, parked: '', updatedAt: Date.now() },
      documents: new Map([['x', doc]]),
      lease,
    });
    await expect(storage.commit('fence#1', commit(stale!, '"stale"'))).rejects.toThrow(LeaseLostError);
    expect(await storage.readDocument('fence#1', 'x')).toBeUndefined();
    expect(await storage.readCheckpoint('fence#1')).toBeNull();
    expect(await storage.renewLease(stale!, 5_000)).toBe(false);
    await storage.commit('fence#1', commit(current!, '"current"'));
    expect(await storage.readDocument('fence#1', 'x')).toBe('"current"');
    await storage.releaseLease(current!);
    const next = await storage.acquireLease('fence#1', 'C', 5_000);
    expect(next!.token).toBeGreaterThan(current!.token);
  });

  if (config.inline === 'sync') {
    it('fails the append when an inline handler is asynchronous on a synchronous transaction', async () => {
      const store = fresh();
      const asyncInline = defineProjection({
        name: 'async-inline',
        version: 1,
        mode: 'inline',
        handlers: { OrderPlaced: async () => undefined },
      });
      const registry = createProjectionRegistry({ store, projections: [asyncInline] });
      await registry.start();
      const error = await store.append('o', [placed('1', 'ann', 1)]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProjectionHandlerError);
      expect(String((error as Error).message)).toMatch(/synchronous/);
      expect(await store.streamVersion('o')).toBe(0);
      await registry.stop();
    });
  }

  it('withLockOn retries on interference and exhausts with a typed error', async () => {
    const store = fresh();
    const names = defineProjection<string[]>({
      name: 'names',
      version: 1,
      init: () => [],
      handlers: { UserRegistered: (list, e) => [...list, (e.data as { name: string }).name] },
    });
    let calls = 0;
    const published = await withLockOn(store, names)
      .retries(3)
      .attempt(
        async (list, tx) => {
          calls += 1;
          if (calls === 1) await store.append('other', [{ type: 'UserRegistered', data: { name: 'zoe' } }]);
          tx.publish('u-1', { type: 'UserRegistered', data: { name: `ann-${list.length}` } });
        },
        (events) => events.map((e) => e.data),
      );
    expect(calls).toBe(2);
    expect(published).toEqual([{ name: 'ann-1' }]);
    const error = await withLockOn(store, names)
      .retries(1)
      .attempt(async (_list, tx) => {
        await store.append('other', [{ type: 'UserRegistered', data: { name: randomUUID() } }]);
        tx.publish('u-2', { type: 'UserRegistered', data: { name: 'never' } });
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockRetriesExhaustedError);
    expect(await store.streamVersion('u-2')).toBe(0);
  });

  it('registry.withLockOn is withLockOn bound to the registry store', async () => {
    const store = fresh();
    const registry = createProjectionRegistry({ store, projections: [] });
    let calls = 0;
    const published = await registry.withLockOn({ types: ['SeatBooked'] }).attempt(
      async (booked, tx) => {
        calls += 1;
        if (calls === 1) await store.append('show', [{ type: 'SeatBooked', data: { seat: 'A1' } }]);
        tx.publish('show', { type: 'SeatBooked', data: { seat: `B${booked.length}` } });
      },
      (events) => events.map((e) => e.data),
    );
    expect(calls).toBe(2);
    expect(published).toEqual([{ seat: 'B1' }]);
    expect((await store.readStream('show')).map((e) => e.data)).toEqual([{ seat: 'A1' }, { seat: 'B1' }]);
  });
}
