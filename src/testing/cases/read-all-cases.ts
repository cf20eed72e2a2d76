import { expect } from 'vitest';
import { comparePositions } from '../../core/position.js';
import { matchesQuery } from '../../core/query.js';
import type { EventFilter, EventStore, RecordedEvent } from '../../core/types.js';
import {
  type ConformanceContext,
  manyEvents,
  newEvent,
  randomStreamId,
  readEverything,
  settle,
} from '../conformance-context.js';
import { expectIncreasingPositions } from './append-cases.js';

/** Seeds three streams with typed, tagged events, some appended concurrently. */
async function seed(store: EventStore): Promise<RecordedEvent[]> {
  const [a, b, c] = [randomStreamId('a'), randomStreamId('b'), randomStreamId('c')];
  await store.append(a, [newEvent('Opened', { n: 1 }, { tags: ['account:a'] })]);
  await store.append(b, [newEvent('Opened', { n: 2 }, { tags: ['account:b'] })]);
  await Promise.all([
    store.append(a, [
      newEvent('Deposited', { n: 3 }, { tags: ['account:a', 'big'] }),
      newEvent('Deposited', { n: 4 }, { tags: ['account:a'] }),
    ]),
    store.append(c, [newEvent('Audited', { n: 5 }, { tags: ['big'] })]),
    store.append(b, [newEvent('Withdrawn', { n: 6 }, { tags: ['account:b', 'big'] })]),
  ]);
  await store.append(a, [newEvent('Closed', { n: 7 }, { tags: ['account:a'] })]);
  return readEverything(store);
}

function matches(filter: EventFilter, event: RecordedEvent): boolean {
  return (Array.isArray(filter) ? filter : [filter]).some((q) => matchesQuery(q, event.type, event.tags));
}

/** readAll: one strictly increasing global order, exclusive `after`, `limit`, filters; headPosition. */
export function readAllCases(ctx: ConformanceContext): void {
  ctx.test('readAll returns every event once in strictly increasing position order', async () => {
    const store = ctx.fresh();
    const all = await seed(store);
    expect(all).toHaveLength(7);
    expectIncreasingPositions(all);
    expect(all.map((e) => (e.data as { n: number }).n).sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Appends that were awaited one after the other are in that order.
    const n = all.map((e) => (e.data as { n: number }).n);
    expect(n.indexOf(4)).toBeGreaterThan(n.indexOf(3));
    expect(n.slice(0, 2)).toEqual([1, 2]);
    expect(n[6]).toBe(7);
    // Each stream's events appear in version order.
    for (const streamId of new Set(all.map((e) => e.streamId))) {
      const own = all.filter((e) => e.streamId === streamId);
      expect(own.map((e) => e.version)).toEqual(own.map((_, i) => i + 1));
      expect(await store.readStream(streamId)).toEqual(own);
    }
  });

  ctx.test('readAll after is exclusive and limit pages through the log', async () => {
    const store = ctx.fresh();
    const all = await seed(store);
    expect(await store.readAll({ after: '0' })).toEqual(all);
    for (let k = 0; k < all.length; k++) {
      expect(await store.readAll({ after: all[k]!.position })).toEqual(all.slice(k + 1));
    }
    expect(await store.readAll({ limit: 3 })).toEqual(all.slice(0, 3));
    expect(await store.readAll({ limit: 1 })).toEqual(all.slice(0, 1));
    expect(await store.readAll({ limit: 100 })).toEqual(all);
    expect(await store.readAll({ after: all[1]!.position, limit: 2 })).toEqual(all.slice(2, 4));
    const paged: RecordedEvent[] = [];
    let after = '0';
    for (;;) {
      const page = await store.readAll({ after, limit: 2 });
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(2);
      paged.push(...page);
      after = page[page.length - 1]!.position;
    }
    expect(paged).toEqual(all);
    expect(await store.readAll({ after: all[6]!.position })).toEqual([]);
  });

  ctx.test('readAll filters by types, tags, types and tags, and any-of lists', async () => {
    const store = ctx.fresh();
    const all = await seed(store);
    const filters: EventFilter[] = [
      { types: ['Opened'] },
      { types: ['Opened', 'Closed'] },
      { tags: ['big'] },
      { tags: ['account:a', 'big'] },
      { types: ['Deposited'], tags: ['big'] },
      { types: ['Withdrawn'], tags: ['account:a'] },
      [{ types: ['Audited'] }, { tags: ['account:b'] }],
      [{ types: ['Nothing'] }, { tags: ['nothing'] }],
      [{ types: ['Opened'] }, { types: ['Opened'], tags: ['account:a'] }],
      {},
    ];
    const expectedCounts = [2, 3, 3, 1, 1, 0, 3, 0, 2, 7];
    for (const [i, filter] of filters.entries()) {
      const expected = all.filter((e) => matches(filter, e));
      expect(expected, JSON.stringify(filter)).toHaveLength(expectedCounts[i]!);
      expect(await store.readAll({ filter }), JSON.stringify(filter)).toEqual(expected);
    }
    // limit counts matching events; after applies before the filter.
    const big = all.filter((e) => e.tags.includes('big'));
    expect(await store.readAll({ filter: { tags: ['big'] }, limit: 2 })).toEqual(big.slice(0, 2));
    expect(await store.readAll({ filter: { tags: ['big'] }, after: big[0]!.position })).toEqual(big.slice(1));
  });

  ctx.test('headPosition is START when empty and the last position after appends', async () => {
    const store = ctx.fresh();
    expect(await store.headPosition()).toBe('0');
    expect(await store.readAll()).toEqual([]);
    const first = await store.append(randomStreamId(), [newEvent('A'), newEvent('B')]);
    await settle(store);
    expect(await store.headPosition()).toBe(first.position);
    const second = await store.append(randomStreamId(), [newEvent('C')]);
    await settle(store);
    expect(await store.headPosition()).toBe(second.position);
    expect(comparePositions(first.position, second.position)).toBeLessThan(0);
    expect(comparePositions('0', first.position)).toBeLessThan(0);
    const all = await store.readAll();
    expect(all[all.length - 1]!.position).toBe(second.position);
    expect(await store.readAll({ after: await store.headPosition() })).toEqual([]);
  });

  ctx.test('a reader tailing readAll during concurrent appends never misses a late commit', async () => {
    const store = ctx.fresh();
    const writers = 4;
    const appendsPerWriter = Math.max(5, Math.round(15 * ctx.scale));
    let writing = true;
    const seen: RecordedEvent[] = [];
    // The reader only ever asks for events after the last position it received: an event that
    // became visible later with a smaller position would be skipped and show up as missing.
    const reader = (async () => {
      let after = '0';
      for (;;) {
        const done = !writing;
        const page = await store.readAll({ after, limit: 50 });
        seen.push(...page);
        if (page.length > 0) after = page[page.length - 1]!.position;
        else if (done) return;
        else await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    try {
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          const shared = randomStreamId('shared');
          for (let i = 0; i < appendsPerWriter; i++) {
            await store.append(
              i % 2 === 0 ? randomStreamId(`w${w}`) : shared,
              manyEvents(`W${w}`, 1 + (i % 3)),
            );
          }
        }),
      );
    } finally {
      writing = false;
    }
    await reader;
    const log = await readEverything(store);
    expectIncreasingPositions(seen);
    expect(seen.map((e) => e.position)).toEqual(log.map((e) => e.position));
  });
}
