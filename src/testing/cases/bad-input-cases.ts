import { expect } from 'vitest';
import { limits } from '../../core/limits.js';
import type { AppendOptions, EventStore, NewEvent } from '../../core/types.js';
import {
  type ConformanceContext,
  expectInvalidInput,
  newEvent,
  randomStreamId,
  readEverything,
} from '../conformance-context.js';

function cyclic(): unknown {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
}

function cyclicArray(): unknown {
  const value: unknown[] = [1];
  value.push({ back: value });
  return value;
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

/** Data and metadata values that are not plain JSON. */
const badData: Record<string, () => unknown> = {
  bigint: () => ({ n: 1n }),
  'top-level bigint': () => 10n,
  NaN: () => ({ n: Number.NaN }),
  Infinity: () => ({ n: Number.POSITIVE_INFINITY }),
  '-Infinity': () => [Number.NEGATIVE_INFINITY],
  function: () => ({ f: () => 1 }),
  'top-level function': () => () => 1,
  symbol: () => ({ s: Symbol('s') }),
  'symbol key': () => ({ [Symbol('k')]: 1 }),
  cycle: cyclic,
  'cycle through an array': cyclicArray,
  Date: () => ({ at: new Date(0) }),
  Map: () => ({ m: new Map([['a', 1]]) }),
  Set: () => new Set([1]),
  'class instance': () => ({ p: new Point(1, 2) }),
  'undefined in an array': () => [1, undefined, 3],
  'top-level undefined': () => undefined,
  'lone surrogate': () => ({ s: 'a\ud800b' }),
  'NUL character': () => ({ s: 'a\u0000b' }),
};

/** Asserts the append is rejected with InvalidInputError and that the namespace is unchanged. */
async function expectRejected(
  store: EventStore,
  streamId: string,
  events: unknown,
  options?: unknown,
  label = '',
): Promise<void> {
  const before = await readEverything(store);
  const versionBefore = await store.streamVersion(streamId);
  try {
    await expectInvalidInput(() => store.append(streamId, events as NewEvent[], options as AppendOptions));
  } catch (error) {
    throw new Error(`${label}: ${(error as Error).message}`, { cause: error });
  }
  expect(await store.streamVersion(streamId), label).toBe(versionBefore);
  expect(await readEverything(store), label).toEqual(before);
}

/** Bad input throws `InvalidInputError` and writes nothing, on new and existing streams. */
export function badInputCases(ctx: ConformanceContext): void {
  ctx.test('non-JSON data and metadata are rejected and write nothing', async () => {
    const store = ctx.fresh();
    const fresh = randomStreamId('new');
    const existing = randomStreamId('existing');
    await store.append(existing, [newEvent('Seed')]);
    for (const [label, make] of Object.entries(badData)) {
      for (const id of [fresh, existing]) {
        await expectRejected(store, id, [{ type: 'T', data: make() }], undefined, `data ${label}`);
        // The bad event after a valid one: validation is complete before anything is written.
        await expectRejected(
          store,
          id,
          [newEvent('Ok'), { type: 'T', data: make() }],
          undefined,
          `second event ${label}`,
        );
      }
      const metadata = make();
      if (typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)) {
        await expectRejected(
          store,
          fresh,
          [{ type: 'T', data: {}, metadata }],
          undefined,
          `metadata ${label}`,
        );
      }
    }
    for (const metadata of [[1], 'text', 5, null]) {
      await expectRejected(
        store,
        fresh,
        [{ type: 'T', data: {}, metadata }],
        undefined,
        `metadata ${JSON.stringify(metadata)}`,
      );
    }
    expect((await store.readAll()).map((e) => e.type)).toEqual(['Seed']);
  });

  ctx.test('malformed events are rejected and write nothing', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    await store.append(id, [newEvent('Seed')]);
    const malformed: Record<string, unknown> = {
      'missing type': [{ data: {} }],
      'empty type': [{ type: '', data: {} }],
      'numeric type': [{ type: 5, data: {} }],
      'over-long type': [{ type: 't'.repeat(limits.maxEventTypeLength + 1), data: {} }],
      'missing data': [{ type: 'T' }],
      'null event': [null],
      'string event': ['T'],
      'array event': [[]],
      'empty id': [{ type: 'T', data: {}, id: '' }],
      'numeric id': [{ type: 'T', data: {}, id: 7 }],
      'tags not an array': [{ type: 'T', data: {}, tags: 'a' }],
      'numeric tag': [{ type: 'T', data: {}, tags: [1] }],
      'empty tag': [{ type: 'T', data: {}, tags: [''] }],
      'null tag': [{ type: 'T', data: {}, tags: [null] }],
      'too many tags': [
        { type: 'T', data: {}, tags: Array.from({ length: limits.maxTagsPerEvent + 1 }, (_, i) => `t${i}`) },
      ],
      'duplicate ids in one append': [
        { type: 'T', data: {}, id: 'same' },
        { type: 'U', data: {}, id: 'same' },
      ],
      'no events': [],
      'events not an array': { type: 'T', data: {} },
      'events missing': undefined,
    };
    for (const [label, events] of Object.entries(malformed))
      await expectRejected(store, id, events, undefined, label);
  });

  ctx.test('oversized events and too many events are rejected and write nothing', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    const big = 'x'.repeat(limits.maxEventBytes + 1);
    await expectRejected(store, id, [{ type: 'T', data: big }], undefined, 'oversized data');
    await expectRejected(
      store,
      id,
      [
        {
          type: 'T',
          data: 'x'.repeat(limits.maxEventBytes / 2),
          metadata: { m: big.slice(0, limits.maxEventBytes / 2) },
        },
      ],
      undefined,
      'oversized data + metadata',
    );
    // Multi-byte characters count in bytes, not characters.
    await expectRejected(
      store,
      id,
      [{ type: 'T', data: 'é'.repeat(limits.maxEventBytes / 2 + 1) }],
      undefined,
      'oversized in bytes',
    );
    const tooMany = Array.from({ length: limits.maxEventsPerAppend + 1 }, (_, i) => newEvent('T', { i }));
    await expectRejected(store, id, tooMany, undefined, 'too many events');
    // The limits themselves are accepted.
    const atLimit = await store.append(id, [{ type: 'T', data: 'x'.repeat(limits.maxEventBytes - 16) }]);
    expect(atLimit.lastVersion).toBe(1);
  });

  ctx.test('bad expected versions and conditions are rejected and write nothing', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    await store.append(id, [newEvent('Seed')]);
    for (const expectedVersion of [
      -1,
      1.5,
      'foo',
      Number.NaN,
      Number.POSITIVE_INFINITY,
      null,
      '1',
      true,
      2 ** 60,
    ]) {
      await expectRejected(
        store,
        id,
        [newEvent('T')],
        { expectedVersion },
        `expectedVersion ${String(expectedVersion)}`,
      );
    }
    const badConditions: Record<string, unknown> = {
      'missing failIfEventsMatch': {},
      'empty query list': { failIfEventsMatch: [] },
      'types not an array': { failIfEventsMatch: { types: 'A' } },
      'tags not an array': { failIfEventsMatch: { tags: 'a' } },
      'empty tag': { failIfEventsMatch: { tags: [''] } },
      'numeric type': { failIfEventsMatch: { types: [1] } },
      'unknown query key': { failIfEventsMatch: { type: 'A' } },
      'null query': { failIfEventsMatch: null },
      'after not a position': { failIfEventsMatch: { types: ['A'] }, after: 'abc' },
      'negative after': { failIfEventsMatch: { types: ['A'] }, after: '-1' },
      'after with a trailing dot': { failIfEventsMatch: { types: ['A'] }, after: '1.' },
      'numeric after': { failIfEventsMatch: { types: ['A'] }, after: 1 },
      'condition not an object': 'yes',
    };
    for (const [label, condition] of Object.entries(badConditions)) {
      await expectRejected(store, id, [newEvent('T')], { condition }, label);
    }
    await expectRejected(store, id, [newEvent('T')], 'options', 'options not an object');
  });

  ctx.test('bad read options are rejected', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    await store.append(id, [newEvent('Seed')]);
    for (const limit of [0, -1, 1.5, 'x', Number.NaN]) {
      await expectInvalidInput(() => store.readAll({ limit: limit as number }));
      await expectInvalidInput(() => store.readStream(id, { limit: limit as number }));
    }
    for (const after of ['abc', '-1', '1.', '', '01', 1, null]) {
      await expectInvalidInput(() => store.readAll({ after: after as string }));
      await expectInvalidInput(() => store.subscribe({ after: after as string }, () => {}));
    }
    for (const filter of [[], { types: 'A' }, { tags: [1] }, { other: [] }, null]) {
      await expectInvalidInput(() => store.readAll({ filter: filter as never }));
      await expectInvalidInput(() => store.subscribe({ filter: filter as never }, () => {}));
    }
    for (const version of [-1, 1.5, 'x']) {
      await expectInvalidInput(() => store.readStream(id, { fromVersion: version as number }));
      await expectInvalidInput(() => store.readStream(id, { toVersion: version as number }));
    }
    await expectInvalidInput(() => store.readStream(id, { direction: 'sideways' as 'forwards' }));
    await expectInvalidInput(() => store.subscribe({}, 'not a function' as never));
    await expectInvalidInput(() => store.saveSnapshot(id, { version: -1, state: {} }));
    await expectInvalidInput(() => store.saveSnapshot(id, { version: 1, state: { n: 1n } as never }));
    await expectInvalidInput(() => store.saveSnapshot(id, { version: 1.5, state: {} }));
    expect(await store.loadSnapshot(id)).toBeNull();
    expect(await store.streamVersion(id)).toBe(1);
  });
}
