import { expect } from 'vitest';
import {
  AppendConditionError,
  isAppendConditionFailure,
  isConflict,
  isVersionConflict,
} from '../../core/errors.js';
import type { AppendCondition, EventStore } from '../../core/types.js';
import {
  type ConformanceContext,
  describeError,
  failureOf,
  newEvent,
  randomStreamId,
  readEverything,
  settle,
} from '../conformance-context.js';

async function expectConditionFailure(
  store: EventStore,
  streamId: string,
  condition: AppendCondition,
): Promise<void> {
  const before = await readEverything(store);
  const error = await failureOf(() => store.append(streamId, [newEvent('Guarded')], { condition }));
  if (!(error instanceof AppendConditionError)) {
    throw new Error(
      `expected AppendConditionError for ${JSON.stringify(condition)}, got ${describeError(error)}`,
    );
  }
  expect(error.code).toBe('APPEND_CONDITION_FAILED');
  expect(error.streamId).toBe(streamId);
  expect(isAppendConditionFailure(error)).toBe(true);
  expect(isConflict(error)).toBe(true);
  expect(isVersionConflict(error)).toBe(false);
  expect(await readEverything(store)).toEqual(before);
}

async function expectConditionPasses(
  store: EventStore,
  streamId: string,
  condition: AppendCondition,
): Promise<void> {
  const version = await store.streamVersion(streamId);
  try {
    const result = await store.append(streamId, [newEvent('Guarded')], { condition });
    expect(result.lastVersion).toBe(version + 1);
  } catch (error) {
    throw new Error(
      `condition ${JSON.stringify(condition)} should pass but failed: ${describeError(error)}`,
      { cause: error },
    );
  }
}

/** Query-based append conditions (`failIfEventsMatch`, with and without `after`). */
export function conditionCases(ctx: ConformanceContext): void {
  ctx.test(
    'condition without after fails when any matching event exists, by type, tags or both',
    async () => {
      const store = ctx.fresh();
      const seeded = randomStreamId('seed');
      const target = randomStreamId('target');
      await store.append(seeded, [
        newEvent('CourseCreated', {}, { tags: ['course:1'] }),
        newEvent('StudentSubscribed', {}, { tags: ['course:1', 'student:7'] }),
      ]);
      // Matching events in another stream count: conditions span the namespace's whole log.
      await expectConditionFailure(store, target, { failIfEventsMatch: { types: ['CourseCreated'] } });
      await expectConditionFailure(store, target, { failIfEventsMatch: { tags: ['course:1'] } });
      await expectConditionFailure(store, target, { failIfEventsMatch: { tags: ['course:1', 'student:7'] } });
      await expectConditionFailure(store, target, {
        failIfEventsMatch: { types: ['StudentSubscribed'], tags: ['student:7'] },
      });
      await expectConditionFailure(store, target, {
        failIfEventsMatch: { types: ['CourseCreated', 'Other'], tags: ['course:1'] },
      });
      // An empty query matches every event.
      await expectConditionFailure(store, target, { failIfEventsMatch: {} });
      expect(await store.streamVersion(target)).toBe(0);
    },
  );

  ctx.test('condition passes when no event matches type AND tags', async () => {
    const store = ctx.fresh();
    const target = randomStreamId('target');
    await store.append(randomStreamId('seed'), [
      newEvent('CourseCreated', {}, { tags: ['course:1'] }),
      newEvent('StudentSubscribed', {}, { tags: ['course:1', 'student:7'] }),
    ]);
    await expectConditionPasses(store, target, { failIfEventsMatch: { types: ['CourseRenamed'] } });
    await expectConditionPasses(store, target, { failIfEventsMatch: { tags: ['course:2'] } });
    await expectConditionPasses(store, target, { failIfEventsMatch: { tags: ['course:1', 'student:8'] } });
    await expectConditionPasses(store, target, {
      failIfEventsMatch: { types: ['CourseCreated'], tags: ['student:7'] },
    });
    await expectConditionPasses(store, target, {
      failIfEventsMatch: { types: ['StudentSubscribed'], tags: ['course:2'] },
    });
    expect(await store.streamVersion(target)).toBe(5);
  });

  ctx.test('an array of queries fails when any of them matches', async () => {
    const store = ctx.fresh();
    const target = randomStreamId('target');
    await store.append(randomStreamId('seed'), [newEvent('Booked', {}, { tags: ['seat:1'] })]);
    await expectConditionFailure(store, target, {
      failIfEventsMatch: [{ types: ['Cancelled'] }, { tags: ['seat:1'] }],
    });
    await expectConditionFailure(store, target, {
      failIfEventsMatch: [{ types: ['Booked'], tags: ['seat:9'] }, { types: ['Booked'] }],
    });
    await expectConditionPasses(store, target, {
      failIfEventsMatch: [
        { types: ['Cancelled'] },
        { tags: ['seat:2'] },
        { types: ['Booked'], tags: ['seat:3'] },
      ],
    });
  });

  ctx.test('condition with after only considers events after that position', async () => {
    const store = ctx.fresh();
    const target = randomStreamId('target');
    const seed = randomStreamId('seed');
    const first = await store.append(seed, [newEvent('Booked', {}, { tags: ['seat:1'] })]);
    const condition = (after: string): AppendCondition => ({
      failIfEventsMatch: { types: ['Booked'] },
      after,
    });
    // Decided after reading the log up to `first.position`: nothing new matches yet.
    await expectConditionPasses(store, target, condition(first.position));
    await settle(store);
    await expectConditionPasses(store, target, condition(await store.headPosition()));
    const second = await store.append(seed, [newEvent('Booked', {}, { tags: ['seat:2'] })]);
    await expectConditionFailure(store, target, condition(first.position));
    await expectConditionFailure(store, target, {
      failIfEventsMatch: { tags: ['seat:2'] },
      after: first.position,
    });
    await expectConditionFailure(store, target, condition('0'));
    await expectConditionPasses(store, target, condition(second.position));
    await expectConditionPasses(store, target, {
      failIfEventsMatch: { tags: ['seat:1'] },
      after: first.position,
    });
    // Unrelated events after the position never fail the condition.
    await store.append(seed, [newEvent('Unrelated', {}, { tags: ['seat:2'] })]);
    await expectConditionPasses(store, target, {
      failIfEventsMatch: { types: ['Booked'] },
      after: second.position,
    });
  });

  ctx.test('condition and expected version are both enforced', async () => {
    const store = ctx.fresh();
    const target = randomStreamId('target');
    await store.append(target, [newEvent('Opened')]);
    await settle(store);
    const head = await store.headPosition();
    const condition: AppendCondition = { failIfEventsMatch: { types: ['Closed'] }, after: head };
    expect(
      isVersionConflict(
        await failureOf(() => store.append(target, [newEvent('X')], { expectedVersion: 0, condition })),
      ),
    ).toBe(true);
    expect(await store.append(target, [newEvent('X')], { expectedVersion: 1, condition })).toMatchObject({
      lastVersion: 2,
    });
    await store.append(randomStreamId(), [newEvent('Closed')]);
    expect(
      isAppendConditionFailure(
        await failureOf(() => store.append(target, [newEvent('Y')], { expectedVersion: 2, condition })),
      ),
    ).toBe(true);
    expect(await store.streamVersion(target)).toBe(2);
  });

  ctx.test('concurrent appends under the same condition have exactly one winner', async () => {
    const store = ctx.fresh();
    const head = await store.headPosition();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        store.append(randomStreamId(`claim${i}`), [newEvent('Claimed', { i }, { tags: ['resource:1'] })], {
          condition: { failIfEventsMatch: { types: ['Claimed'], tags: ['resource:1'] }, after: head },
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes)
      if (o.status === 'rejected') expect(isAppendConditionFailure(o.reason)).toBe(true);
    expect((await readEverything(store)).filter((e) => e.type === 'Claimed')).toHaveLength(1);
  });
}
