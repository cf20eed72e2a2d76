import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/core/types.js';
import { openStore } from '../../src/open-store.js';
import { describeWithService } from '../support/services.js';
import { openIsolated, type ReliabilityTarget, targets } from './targets.js';

/**
 * Fuzzing of every input the store accepts: whatever the caller passes, the store either succeeds
 * or throws one of its typed errors; it never crashes with a foreign error, and a rejected call
 * writes nothing.
 */

const ALLOWED_CODES = new Set(['INVALID_INPUT', 'VERSION_CONFLICT', 'APPEND_CONDITION_FAILED']);

const anything = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
  maxDepth: 3,
});
const weirdString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    '*',
    '>',
    'a.b',
    'a\u0000b',
    '\ud800',
    'x'.repeat(513),
    '🦄'.repeat(129),
    '🦄'.repeat(128),
  ),
);
const position = fc.oneof(
  weirdString,
  fc.constantFrom('0', '1', '1.2', '01', '-1', '1.', '.1', '99999999999999999999.1'),
  anything,
);
const query = fc.oneof(
  fc.record({
    types: fc.option(fc.array(weirdString, { maxLength: 3 }), { nil: undefined }),
    tags: fc.option(fc.array(weirdString, { maxLength: 3 }), { nil: undefined }),
  }),
  anything,
);
const event = fc.oneof(
  fc.record(
    {
      type: fc.oneof(weirdString, anything),
      data: anything,
      metadata: fc.oneof(anything, fc.dictionary(weirdString, anything, { maxKeys: 3 })),
      id: fc.oneof(weirdString, anything),
      tags: fc.oneof(fc.array(weirdString, { maxLength: 4 }), anything),
    },
    { requiredKeys: ['type', 'data'] },
  ),
  anything,
);
const expectedVersion = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.double(),
  fc.constantFrom('any', 'no_stream', 'stream_exists', 'foo', null),
  anything,
);
const appendOptions = fc.oneof(
  fc.constant(undefined),
  fc.record(
    {
      expectedVersion,
      condition: fc.oneof(
        fc.record({ failIfEventsMatch: fc.oneof(query, fc.array(query, { maxLength: 2 })), after: position }),
        anything,
      ),
    },
    { requiredKeys: [] },
  ),
  anything,
);

async function expectTyped(call: () => Promise<unknown>): Promise<'ok' | 'rejected'> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !ALLOWED_CODES.has(code)) {
      throw new Error(`untyped failure: ${String(error)}`, { cause: error });
    }
    return 'rejected';
  }
}

function fuzzSuite(target: ReliabilityTarget): void {
  let root: EventStore;
  let store: EventStore;
  beforeAll(async () => {
    root = await openStore(target.url());
    store = await openIsolated(target, root);
  });
  afterAll(async () => {
    await root?.close();
  });

  it('append: typed error or success, and nothing written when rejected', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(weirdString, anything),
        fc.oneof(fc.array(event, { maxLength: 3 }), anything),
        appendOptions,
        async (streamId, events, options) => {
          const head = await store.headPosition();
          const outcome = await expectTyped(() =>
            store.append(streamId as string, events as never, options as never),
          );
          if (outcome === 'rejected') expect(await store.headPosition()).toBe(head);
        },
      ),
      { numRuns: target.runs * 4 },
    );
  });

  it('reads, versions, snapshots and subscriptions: typed error or success', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(weirdString, anything),
        anything,
        position,
        fc.oneof(query, fc.array(query)),
        async (streamId, options, after, filter) => {
          await expectTyped(() => store.readStream(streamId as string, options as never));
          await expectTyped(() => store.streamVersion(streamId as string));
          await expectTyped(() =>
            store.readAll({ after: after as string, filter: filter as never, limit: 5 }),
          );
          await expectTyped(() => store.readAll(options as never));
          await expectTyped(() => store.saveSnapshot(streamId as string, options as never));
          await expectTyped(() => store.loadSnapshot(streamId as string));
          await expectTyped(async () => {
            const subscription = store.subscribe(
              { after: after as string, filter: filter as never },
              () => {},
            );
            await subscription.close();
          });
        },
      ),
      { numRuns: target.runs * 2 },
    );
  });
}

for (const target of targets) {
  const name = `store inputs are fuzz-safe: ${target.name}`;
  if (target.service) describeWithService(target.service, name, () => fuzzSuite(target));
  else describe(name, () => fuzzSuite(target));
}
