import { expect } from 'vitest';
import { MalformedRecordError } from '../../core/errors.js';
import type { EventStore, ReadStreamOptions } from '../../core/types.js';
import {
  type ConformanceContext,
  describeError,
  failureOf,
  manyEvents,
  newEvent,
  randomStreamId,
  settle,
  unwrap,
} from '../conformance-context.js';

async function versions(store: EventStore, id: string, options?: ReadStreamOptions): Promise<number[]> {
  return (await store.readStream(id, options)).map((e) => e.version);
}

const range = (from: number, to: number) =>
  from <= to
    ? Array.from({ length: to - from + 1 }, (_, i) => from + i)
    : Array.from({ length: from - to + 1 }, (_, i) => from - i);

/** readStream in both directions with bounds, streamVersion, and reporting of undecodable records. */
export function readStreamCases(ctx: ConformanceContext): void {
  ctx.test('readStream reads forwards and backwards with fromVersion, toVersion and limit', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    await store.append(id, manyEvents('E', 4));
    await store.append(randomStreamId('other'), manyEvents('Other', 3));
    await store.append(id, manyEvents('E', 6));
    expect(await versions(store, id)).toEqual(range(1, 10));
    expect(await versions(store, id, { direction: 'forwards' })).toEqual(range(1, 10));
    expect(await versions(store, id, { fromVersion: 3 })).toEqual(range(3, 10));
    expect(await versions(store, id, { fromVersion: 0 })).toEqual(range(1, 10));
    expect(await versions(store, id, { toVersion: 5 })).toEqual(range(1, 5));
    expect(await versions(store, id, { fromVersion: 3, toVersion: 5 })).toEqual(range(3, 5));
    expect(await versions(store, id, { fromVersion: 4, toVersion: 4 })).toEqual([4]);
    expect(await versions(store, id, { limit: 4 })).toEqual(range(1, 4));
    expect(await versions(store, id, { fromVersion: 3, limit: 2 })).toEqual([3, 4]);
    expect(await versions(store, id, { fromVersion: 3, toVersion: 9, limit: 100 })).toEqual(range(3, 9));
    expect(await versions(store, id, { fromVersion: 11 })).toEqual([]);
    expect(await versions(store, id, { fromVersion: 6, toVersion: 5 })).toEqual([]);
    expect(await versions(store, id, { toVersion: 0 })).toEqual([]);
    expect(await versions(store, id, { direction: 'backwards' })).toEqual(range(10, 1));
    expect(await versions(store, id, { direction: 'backwards', fromVersion: 7 })).toEqual(range(7, 1));
    expect(await versions(store, id, { direction: 'backwards', fromVersion: 7, toVersion: 4 })).toEqual(
      range(7, 4),
    );
    expect(await versions(store, id, { direction: 'backwards', limit: 3 })).toEqual([10, 9, 8]);
    expect(await versions(store, id, { direction: 'backwards', fromVersion: 50, limit: 2 })).toEqual([10, 9]);
    expect(await versions(store, id, { direction: 'backwards', fromVersion: 5, toVersion: 6 })).toEqual([]);
    const events = await store.readStream(id);
    expect(events.every((e) => e.streamId === id && e.type === 'E')).toBe(true);
    expect(events.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 4, 5]);
  });

  ctx.test('readStream of an unknown stream is empty and streamVersion is 0', async () => {
    const store = ctx.fresh();
    const id = randomStreamId('unknown');
    expect(await store.readStream(id)).toEqual([]);
    expect(await store.readStream(id, { direction: 'backwards' })).toEqual([]);
    expect(await store.readStreamWithErrors(id)).toEqual({ events: [], malformed: [] });
    expect(await store.streamVersion(id)).toBe(0);
  });

  ctx.test('streamVersion follows appends and ignores failed appends and other streams', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    const other = randomStreamId('other');
    await store.append(id, [newEvent('A')]);
    expect(await store.streamVersion(id)).toBe(1);
    await store.append(other, manyEvents('O', 5));
    await store.append(id, manyEvents('B', 3));
    expect(await store.streamVersion(id)).toBe(4);
    await failureOf(() => store.append(id, [newEvent('C')], { expectedVersion: 2 }));
    expect(await store.streamVersion(id)).toBe(4);
    expect(await store.streamVersion(other)).toBe(5);
    const stream = await store.readStream(id);
    expect(stream[stream.length - 1]!.version).toBe(await store.streamVersion(id));
  });

  ctx.test(
    'readStreamWithErrors reports a corrupted record and readStream throws MalformedRecordError',
    async () => {
      const store = ctx.fresh();
      const id = randomStreamId('corrupt');
      await store.append(id, manyEvents('E', 3));
      await ctx.config.corrupt!(unwrap(store), id, 2);
      const { events, malformed } = await store.readStreamWithErrors(id);
      expect(events.map((e) => e.version)).toEqual([1, 3]);
      expect(malformed).toHaveLength(1);
      expect(malformed[0]).toMatchObject({ streamId: id, version: 2, position: expect.any(String) });
      expect(malformed[0]!.error).toBeInstanceOf(Error);
      expect(malformed[0]!.raw).toBeDefined();
      const error = await failureOf(() => store.readStream(id));
      if (!(error instanceof MalformedRecordError))
        throw new Error(`expected MalformedRecordError, got ${describeError(error)}`);
      expect(error.code).toBe('MALFORMED_RECORD');
      expect(error.record.version).toBe(2);
      // Reads that do not touch the corrupted record still work.
      expect((await store.readStream(id, { fromVersion: 3 })).map((e) => e.version)).toEqual([3]);
      // The global log does not skip it silently either.
      await settle(store);
      await expect(store.readAll()).rejects.toBeInstanceOf(MalformedRecordError);
    },
    { unsupported: ctx.config.corrupt ? undefined : 'config.corrupt not given' },
  );
}
