import { expect } from 'vitest';
import { isConflict, isVersionConflict, VersionConflictError } from '../../core/errors.js';
import type { EventStore, ExpectedVersion } from '../../core/types.js';
import {
  type ConformanceContext,
  describeError,
  failureOf,
  manyEvents,
  newEvent,
  randomStreamId,
  readEverything,
} from '../conformance-context.js';

/** Asserts that the append fails with a complete `VersionConflictError` and writes nothing. */
async function expectConflict(
  store: EventStore,
  streamId: string,
  expectedVersion: ExpectedVersion,
  currentVersion: number,
): Promise<void> {
  const before = await readEverything(store);
  const error = await failureOf(() => store.append(streamId, [newEvent('Rejected')], { expectedVersion }));
  if (!(error instanceof VersionConflictError))
    throw new Error(`expected VersionConflictError, got ${describeError(error)}`);
  expect(error.code).toBe('VERSION_CONFLICT');
  expect(error.streamId).toBe(streamId);
  expect(error.expectedVersion).toBe(expectedVersion);
  expect(error.currentVersion).toBe(currentVersion);
  expect(isVersionConflict(error)).toBe(true);
  expect(isConflict(error)).toBe(true);
  expect(await store.streamVersion(streamId)).toBe(currentVersion);
  expect(await readEverything(store)).toEqual(before);
}

/** `expectedVersion` in all four forms, enforced with complete conflict errors. */
export function expectedVersionCases(ctx: ConformanceContext): void {
  ctx.test('expected version 0 creates a new stream and conflicts on an existing one', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    const result = await store.append(id, [newEvent('Created')], { expectedVersion: 0 });
    expect(result).toMatchObject({ streamId: id, firstVersion: 1, lastVersion: 1 });
    await expectConflict(store, id, 0, 1);
  });

  ctx.test('expected version number must equal the current version exactly', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    await store.append(id, manyEvents('Step', 3));
    await expectConflict(store, id, 2, 3); // stale
    await expectConflict(store, id, 4, 3); // ahead
    await expectConflict(store, id, 1_000, 3);
    const result = await store.append(id, manyEvents('Step', 2), { expectedVersion: 3 });
    expect(result).toMatchObject({ firstVersion: 4, lastVersion: 5 });
    await expectConflict(store, id, 3, 5);
    expect((await store.readStream(id)).map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
  });

  ctx.test('expected version number on an unknown stream conflicts with current version 0', async () => {
    const store = ctx.fresh();
    await expectConflict(store, randomStreamId(), 1, 0);
    await expectConflict(store, randomStreamId(), 7, 0);
  });

  ctx.test("expected version 'any' appends to new and existing streams", async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    expect(await store.append(id, [newEvent('A')], { expectedVersion: 'any' })).toMatchObject({
      firstVersion: 1,
      lastVersion: 1,
    });
    expect(await store.append(id, [newEvent('B')], { expectedVersion: 'any' })).toMatchObject({
      firstVersion: 2,
      lastVersion: 2,
    });
    // No options at all means 'any'.
    expect(await store.append(id, [newEvent('C')])).toMatchObject({ firstVersion: 3, lastVersion: 3 });
    expect(await store.append(id, [newEvent('D')], {})).toMatchObject({ firstVersion: 4, lastVersion: 4 });
    expect(await store.streamVersion(id)).toBe(4);
  });

  ctx.test("expected version 'no_stream' only creates", async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    expect(await store.append(id, manyEvents('A', 2), { expectedVersion: 'no_stream' })).toMatchObject({
      firstVersion: 1,
      lastVersion: 2,
    });
    await expectConflict(store, id, 'no_stream', 2);
  });

  ctx.test("expected version 'stream_exists' only appends to existing streams", async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    await expectConflict(store, id, 'stream_exists', 0);
    expect(await store.streamVersion(id)).toBe(0);
    await store.append(id, [newEvent('A')]);
    expect(await store.append(id, [newEvent('B')], { expectedVersion: 'stream_exists' })).toMatchObject({
      firstVersion: 2,
      lastVersion: 2,
    });
  });

  ctx.test('a conflict in one stream does not depend on other streams', async () => {
    const store = ctx.fresh();
    const a = randomStreamId('a');
    const b = randomStreamId('b');
    await store.append(a, manyEvents('A', 4));
    expect(await store.append(b, [newEvent('B')], { expectedVersion: 0 })).toMatchObject({ firstVersion: 1 });
    await expectConflict(store, b, 4, 1);
  });

  ctx.test('concurrent appends with the same expected version have exactly one winner', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    await store.append(id, [newEvent('Start')]);
    const contenders = 8;
    const outcomes = await Promise.allSettled(
      Array.from({ length: contenders }, (_, i) =>
        store.append(id, manyEvents(`Try${i}`, 2), { expectedVersion: 1 }),
      ),
    );
    const winners = outcomes.filter((o) => o.status === 'fulfilled');
    const losers = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(winners).toHaveLength(1);
    for (const loser of losers) {
      expect(isVersionConflict(loser.reason)).toBe(true);
      expect((loser.reason as VersionConflictError).currentVersion).toBe(3);
    }
    const events = await store.readStream(id);
    expect(events.map((e) => e.version)).toEqual([1, 2, 3]);
    // The winner's two events are both there, the losers' are not (atomicity).
    expect(new Set(events.slice(1).map((e) => e.type)).size).toBe(1);
  });
}
