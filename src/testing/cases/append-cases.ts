import { expect } from 'vitest';
import { comparePositions } from '../../core/position.js';
import type { Json, RecordedEvent } from '../../core/types.js';
import {
  type ConformanceContext,
  manyEvents,
  newEvent,
  randomStreamId,
  readEverything,
  settle,
} from '../conformance-context.js';

/** Asserts positions strictly increase along `events`. */
export function expectIncreasingPositions(events: readonly RecordedEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    const previous = events[i - 1]!.position;
    const current = events[i]!.position;
    if (comparePositions(previous, current) >= 0) {
      throw new Error(`positions not strictly increasing at index ${i}: ${previous} then ${current}`);
    }
  }
}

const sampleData: Json = {
  text: 'héllo wörld ✓ 🎉 \u2028 "quoted" \\ back',
  integer: 9_007_199_254_740_991,
  negative: -42,
  fraction: 0.1,
  exponent: 1.5e-7,
  flags: [true, false, null],
  nested: { empty: {}, list: [], deeper: { key: 'value' } },
  'key with spaces.and.dots': 1,
};

/** Atomic multi-event appends: result fields, contiguous versions, one position order, stored fields. */
export function appendCases(ctx: ConformanceContext): void {
  ctx.test(
    'append stores all events of one call with contiguous versions and returns the result',
    async () => {
      const store = ctx.fresh();
      const id = randomStreamId();
      const first = await store.append(id, manyEvents('First', 3));
      expect(first).toEqual({ streamId: id, firstVersion: 1, lastVersion: 3, position: expect.any(String) });
      const second = await store.append(id, manyEvents('Second', 4));
      expect(second).toEqual({ streamId: id, firstVersion: 4, lastVersion: 7, position: expect.any(String) });
      expect(comparePositions(first.position, second.position)).toBeLessThan(0);

      const events = await store.readStream(id);
      expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(events.map((e) => e.type)).toEqual([
        'First',
        'First',
        'First',
        'Second',
        'Second',
        'Second',
        'Second',
      ]);
      expect(events.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 0, 1, 2, 3]);
      expectIncreasingPositions(events);
      // The result's position is the position of the append's last event.
      expect(events[2]!.position).toBe(first.position);
      expect(events[6]!.position).toBe(second.position);
      await settle(store);
      expect(await store.headPosition()).toBe(second.position);
    },
  );

  ctx.test('recorded events carry every field as given, with defaults filled in', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    const before = Date.now();
    await store.append(id, [
      {
        type: 'Full',
        data: sampleData,
        metadata: { correlationId: 'c-1', nested: { n: 1 } },
        id: 'event-full',
        tags: ['t1', 't2'],
      },
      { type: 'Bare', data: null },
      { type: 'Scalar', data: 'just a string' },
    ]);
    const after = Date.now();
    const [full, bare, scalar] = await store.readStream(id);
    expect(full).toMatchObject({
      streamId: id,
      version: 1,
      id: 'event-full',
      type: 'Full',
      data: sampleData,
      metadata: { correlationId: 'c-1', nested: { n: 1 } },
    });
    expect([...full!.tags].sort()).toEqual(['t1', 't2']);
    expect(bare).toMatchObject({
      streamId: id,
      version: 2,
      type: 'Bare',
      data: null,
      metadata: {},
      tags: [],
    });
    expect(typeof bare!.id).toBe('string');
    expect(bare!.id.length).toBeGreaterThan(0);
    expect(bare!.id).not.toBe(scalar!.id);
    expect(scalar!.data).toBe('just a string');
    for (const event of [full!, bare!, scalar!]) {
      expect(event.timestamp).toBeInstanceOf(Date);
      // A generous window: this checks the clock used, not speed (servers may have skew).
      expect(event.timestamp.getTime()).toBeGreaterThan(before - 5 * 60_000);
      expect(event.timestamp.getTime()).toBeLessThan(after + 5 * 60_000);
    }
    // readAll returns the same records.
    await settle(store);
    expect(await store.readAll()).toEqual([full, bare, scalar]);
  });

  ctx.test('events of concurrent appends to many streams all land, each stream contiguous', async () => {
    const store = ctx.fresh();
    const streams = Array.from({ length: 6 }, () => randomStreamId());
    const rounds = Math.max(2, Math.round(5 * ctx.scale));
    for (let round = 0; round < rounds; round++) {
      await Promise.all(streams.map((id, s) => store.append(id, manyEvents(`S${s}`, 1 + ((round + s) % 3)))));
    }
    const all = await readEverything(store);
    expectIncreasingPositions(all);
    expect(new Set(all.map((e) => e.position)).size).toBe(all.length);
    for (const [s, id] of streams.entries()) {
      const events = await store.readStream(id);
      const expected = Array.from({ length: rounds }, (_, round) => 1 + ((round + s) % 3)).reduce(
        (a, b) => a + b,
        0,
      );
      expect(events.map((e) => e.version)).toEqual(Array.from({ length: expected }, (_, i) => i + 1));
      expectIncreasingPositions(events);
      expect(all.filter((e) => e.streamId === id)).toEqual(events);
    }
  });

  ctx.test('a failed append writes none of its events', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    await store.append(id, [newEvent('A')]);
    await expect(store.append(id, manyEvents('B', 5), { expectedVersion: 0 })).rejects.toThrow();
    expect(await store.streamVersion(id)).toBe(1);
    expect((await readEverything(store)).map((e) => e.type)).toEqual(['A']);
  });
}
