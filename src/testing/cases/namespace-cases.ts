import { expect } from 'vitest';
import {
  type ConformanceContext,
  expectInvalidInput,
  manyEvents,
  newEvent,
  randomNamespace,
  randomStreamId,
  readEverything,
} from '../conformance-context.js';
import { record } from './subscription-helpers.js';

/** Namespaces are isolated sets of streams, positions, snapshots and subscriptions. */
export function namespaceCases(ctx: ConformanceContext): void {
  ctx.test('namespaces isolate streams, versions, reads, snapshots and conditions', async () => {
    const nameA = randomNamespace('a');
    const nameB = randomNamespace('b');
    const a = ctx.namespace(nameA);
    const b = ctx.namespace(nameB);
    expect(a.namespace).toBe(nameA);
    expect(b.namespace).toBe(nameB);
    const id = randomStreamId('same');
    await a.append(id, manyEvents('InA', 3));
    expect(await b.streamVersion(id)).toBe(0);
    expect(await b.readStream(id)).toEqual([]);
    expect(await b.readAll()).toEqual([]);
    expect(await b.headPosition()).toBe('0');
    expect(await b.loadSnapshot(id)).toBeNull();
    // The same stream id in B starts at version 1 with expected version 'no_stream'.
    expect(
      await b.append(id, [newEvent('InB', {}, { tags: ['t'] })], { expectedVersion: 'no_stream' }),
    ).toMatchObject({
      firstVersion: 1,
      lastVersion: 1,
    });
    expect(await a.streamVersion(id)).toBe(3);
    expect((await a.readStream(id)).map((e) => e.type)).toEqual(['InA', 'InA', 'InA']);
    expect((await b.readStream(id)).map((e) => e.type)).toEqual(['InB']);
    expect((await readEverything(a)).map((e) => e.type)).toEqual(['InA', 'InA', 'InA']);
    expect((await readEverything(b)).map((e) => e.type)).toEqual(['InB']);
    // A condition in A does not see B's events.
    await expect(
      a.append(randomStreamId(), [newEvent('Guarded')], {
        condition: { failIfEventsMatch: { types: ['InB'] } },
      }),
    ).resolves.toMatchObject({ lastVersion: 1 });
    await a.saveSnapshot(id, { version: 3, state: { ns: 'a' } });
    expect(await b.loadSnapshot(id)).toBeNull();
    // Idempotency ids are per namespace too.
    await a.append(randomStreamId(), [newEvent('WithId', {}, { id: 'shared-id' })]);
    const again = randomStreamId();
    await b.append(again, [newEvent('WithId', {}, { id: 'shared-id' })]);
    expect(await b.streamVersion(again)).toBe(1);
    // A store for the same namespace name sees the same data.
    expect(await ctx.root().withNamespace(nameA).streamVersion(id)).toBe(3);
  });

  ctx.test('subscriptions only see their own namespace', async () => {
    const a = ctx.fresh();
    const b = ctx.fresh();
    const subA = record(a);
    const subB = record(b);
    await a.append(randomStreamId(), manyEvents('InA', 3));
    await b.append(randomStreamId(), manyEvents('InB', 2));
    await a.append(randomStreamId(), manyEvents('InA', 1));
    await subA.waitFor(4);
    await subB.waitFor(2);
    // Markers prove nothing from the other namespace was still in flight.
    await b.append(randomStreamId(), [newEvent('InB')]);
    await subB.waitFor(3);
    await Promise.all([subA.subscription.close(), subB.subscription.close()]);
    expect(subA.events.map((e) => e.type)).toEqual(['InA', 'InA', 'InA', 'InA']);
    expect(subB.events.map((e) => e.type)).toEqual(['InB', 'InB', 'InB']);
  });

  ctx.test('withNamespace validates names', async () => {
    const root = ctx.root();
    for (const bad of ['', 'a.b', 'a b', 'a/b', '*', '>', 'é', 'x'.repeat(65), 42, null, undefined]) {
      await expectInvalidInput(() => root.withNamespace(bad as string));
    }
    for (const good of ['a', 'A-b_9', 'x'.repeat(64)]) expect(root.withNamespace(good).namespace).toBe(good);
    // Namespaced stores can switch namespaces too.
    const name = randomNamespace();
    expect(ctx.fresh().withNamespace(name).namespace).toBe(name);
  });
}
