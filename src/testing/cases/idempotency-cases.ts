import { expect } from 'vitest';
import { OrdoError } from '../../core/errors.js';
import {
  type ConformanceContext,
  failureOf,
  newEvent,
  randomStreamId,
  readEverything,
} from '../conformance-context.js';

/** Retrying an append with the same event ids returns the original result and stores nothing twice. */
export function idempotencyCases(ctx: ConformanceContext): void {
  ctx.test('a retried append with the same ids returns the original result without duplicates', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    const events = [newEvent('A', { n: 1 }, { id: 'id-1' }), newEvent('B', { n: 2 }, { id: 'id-2' })];
    const original = await store.append(id, events, { expectedVersion: 'no_stream' });
    for (const expectedVersion of ['no_stream', 0, 'any', undefined] as const) {
      const retried = await store.append(
        id,
        events,
        expectedVersion === undefined ? undefined : { expectedVersion },
      );
      expect(retried).toEqual(original);
    }
    expect(await store.streamVersion(id)).toBe(2);
    expect((await store.readStream(id)).map((e) => e.id)).toEqual(['id-1', 'id-2']);
    expect(await readEverything(store)).toHaveLength(2);
  });

  ctx.test('a retry after later appends still returns the original result', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    await store.append(id, [newEvent('Before', {}, { id: 'before' })]);
    const original = await store.append(
      id,
      [newEvent('A', {}, { id: 'x-1' }), newEvent('B', {}, { id: 'x-2' })],
      {
        expectedVersion: 1,
      },
    );
    expect(original).toMatchObject({ firstVersion: 2, lastVersion: 3 });
    await store.append(id, [newEvent('Later', {}, { id: 'later' })], { expectedVersion: 3 });
    await store.append(randomStreamId(), [newEvent('Elsewhere')]);
    const retried = await store.append(
      id,
      [newEvent('A', {}, { id: 'x-1' }), newEvent('B', {}, { id: 'x-2' })],
      {
        expectedVersion: 1,
      },
    );
    expect(retried).toEqual(original);
    const single = await store.append(id, [newEvent('Before', {}, { id: 'before' })], { expectedVersion: 0 });
    expect(single).toMatchObject({ streamId: id, firstVersion: 1, lastVersion: 1 });
    expect((await store.readStream(id)).map((e) => e.id)).toEqual(['before', 'x-1', 'x-2', 'later']);
  });

  ctx.test('an append whose ids are only partly stored fails and writes nothing', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    await store.append(id, [newEvent('A', {}, { id: 'p-1' }), newEvent('B', {}, { id: 'p-2' })]);
    const before = await readEverything(store);
    const attempts = [
      {
        events: [newEvent('B', {}, { id: 'p-2' }), newEvent('C', {}, { id: 'p-3' })],
        expectedVersion: 'any' as const,
      },
      { events: [newEvent('A', {}, { id: 'p-1' }), newEvent('C', {}, { id: 'p-3' })], expectedVersion: 0 },
      { events: [newEvent('C', {}, { id: 'p-3' }), newEvent('A', {}, { id: 'p-1' })], expectedVersion: 2 },
      // Same ids, other order: not the original append.
      {
        events: [newEvent('B', {}, { id: 'p-2' }), newEvent('A', {}, { id: 'p-1' })],
        expectedVersion: 'any' as const,
      },
    ];
    for (const { events, expectedVersion } of attempts) {
      const error = await failureOf(() => store.append(id, events, { expectedVersion }));
      expect(error).toBeInstanceOf(OrdoError);
      expect(await readEverything(store)).toEqual(before);
    }
    expect(await store.streamVersion(id)).toBe(2);
  });

  ctx.test('events without ids are never deduplicated', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    const events = [newEvent('A', { same: true })];
    await store.append(id, events);
    await store.append(id, events);
    const stored = await store.readStream(id);
    expect(stored).toHaveLength(2);
    expect(stored[0]!.id).not.toBe(stored[1]!.id);
  });

  ctx.test(
    'concurrent identical appends with ids store the events once and agree on the result',
    async () => {
      const store = ctx.fresh();
      const id = randomStreamId();
      const events = [newEvent('A', {}, { id: 'c-1' }), newEvent('B', {}, { id: 'c-2' })];
      for (const expectedVersion of ['no_stream', 'any'] as const) {
        const stream = `${id}-${expectedVersion}`;
        const results = await Promise.all(
          Array.from({ length: 5 }, () => store.append(stream, events, { expectedVersion })),
        );
        for (const result of results) expect(result).toEqual(results[0]);
        expect(results[0]).toMatchObject({ streamId: stream, firstVersion: 1, lastVersion: 2 });
        expect((await store.readStream(stream)).map((e) => e.id)).toEqual(['c-1', 'c-2']);
      }
    },
  );
}
