import { expect } from 'vitest';
import type { RecordedEvent } from '../../core/types.js';
import {
  type ConformanceContext,
  manyEvents,
  newEvent,
  randomStreamId,
  readEverything,
  settle,
  waitUntil,
} from '../conformance-context.js';
import { expectIncreasingPositions } from './append-cases.js';
import { record } from './subscription-helpers.js';

/** Asserts that `received` is exactly the log, once each, in global order. */
export function expectExactlyOnceInOrder(
  received: readonly RecordedEvent[],
  log: readonly RecordedEvent[],
): void {
  const ids = received.map((e) => `${e.streamId}@${e.version}`);
  const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
  expect(duplicates, 'events delivered more than once').toEqual([]);
  expectIncreasingPositions(received);
  expect(received.map((e) => e.position)).toEqual(log.map((e) => e.position));
  expect(received).toEqual(log);
}

/** Subscriptions: catch-up then live, exactly once in order, resume, filters, close, errors. */
export function subscriptionCases(ctx: ConformanceContext): void {
  ctx.test(
    'subscription catches up, then delivers live events from concurrent writers exactly once in order',
    async () => {
      const store = ctx.fresh();
      const history = Math.round(30 * ctx.scale);
      await store.append(randomStreamId('history'), manyEvents('Past', history));
      await settle(store);
      const sub = record(store);
      await sub.waitFor(history);
      await waitUntil(() => sub.caughtUp.length > 0, 'onCaughtUp');
      expect(sub.caughtUp).toEqual([(await readEverything(store))[history - 1]!.position]);

      const writers = 4;
      const appendsPerWriter = Math.max(3, Math.round(10 * ctx.scale));
      const shared = randomStreamId('shared');
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          const own = randomStreamId(`writer${w}`);
          for (let i = 0; i < appendsPerWriter; i++) {
            await store.append(own, manyEvents(`Live${w}`, 1 + (i % 3)));
            // Writers also race on a shared stream without an expected version.
            if (i % 3 === 0) await store.append(shared, [newEvent('Shared', { w, i })]);
          }
        }),
      );
      const log = await readEverything(store);
      await sub.waitFor(log.length);
      // Give a late duplicate the chance to show up before comparing.
      await store.append(randomStreamId('marker'), [newEvent('Marker')]);
      await sub.waitFor(log.length + 1);
      await sub.subscription.close();
      expectExactlyOnceInOrder(sub.events, await readEverything(store));
      expect(sub.caughtUp).toHaveLength(1);
      expect(sub.errors).toEqual([]);
      expect(sub.subscription.position).toBe(sub.events[sub.events.length - 1]!.position);
    },
  );

  ctx.test(
    'subscription on an empty namespace reports caught up at START and then receives live events',
    async () => {
      const store = ctx.fresh();
      const sub = record(store);
      await waitUntil(() => sub.caughtUp.length > 0, 'onCaughtUp');
      expect(sub.caughtUp).toEqual(['0']);
      expect(sub.subscription.position).toBe('0');
      await store.append(randomStreamId(), manyEvents('Live', 3));
      await sub.waitFor(3);
      await sub.subscription.close();
      expectExactlyOnceInOrder(sub.events, await readEverything(store));
    },
  );

  ctx.test('subscription resumes after a given position', async () => {
    const store = ctx.fresh();
    await store.append(randomStreamId(), manyEvents('E', 6));
    const log = await readEverything(store);
    const sub = record(store, { after: log[2]!.position });
    await sub.waitFor(3);
    await store.append(randomStreamId(), manyEvents('F', 2));
    await sub.waitFor(5);
    await sub.subscription.close();
    expectExactlyOnceInOrder(sub.events, (await readEverything(store)).slice(3));
  });

  ctx.test('subscription filter delivers only matching events, in order', async () => {
    const store = ctx.fresh();
    const filter = [{ types: ['Wanted'] }, { tags: ['vip'] }];
    await store.append(randomStreamId(), [
      newEvent('Wanted'),
      newEvent('Other'),
      newEvent('Other', {}, { tags: ['vip'] }),
    ]);
    const sub = record(store, { filter });
    await sub.waitFor(2);
    await store.append(randomStreamId(), [
      newEvent('Other'),
      newEvent('Wanted', { live: true }),
      newEvent('Other', {}, { tags: ['x'] }),
    ]);
    await sub.waitFor(3);
    // A final matching marker proves that nothing else matching is still in flight.
    await store.append(randomStreamId(), [newEvent('Other'), newEvent('Wanted', { marker: true })]);
    await sub.waitFor(4);
    await sub.subscription.close();
    expectExactlyOnceInOrder(
      sub.events,
      (await readEverything(store)).filter((e) => e.type === 'Wanted' || e.tags.includes('vip')),
    );
    expect(sub.events).toHaveLength(4);
  });

  ctx.test('close() stops delivery and resolves closed', async () => {
    const store = ctx.fresh();
    const stream = randomStreamId();
    await store.append(stream, manyEvents('Before', 2));
    const sub = record(store);
    await sub.waitFor(2);
    await sub.subscription.close();
    await expect(sub.subscription.closed).resolves.toBeUndefined();
    await store.append(stream, manyEvents('After', 3));
    // A second subscription sees the new events, so they were delivered to whoever listened.
    const witness = record(store);
    await witness.waitFor(5);
    await witness.subscription.close();
    expect(sub.events.map((e) => e.type)).toEqual(['Before', 'Before']);
    expect(sub.errors).toEqual([]);
    await sub.subscription.close(); // closing twice is harmless
  });

  ctx.test('close() called from inside the handler stops delivery without waiting for itself', async () => {
    const store = ctx.fresh();
    await store.append(randomStreamId(), manyEvents('E', 5));
    const received: number[] = [];
    let closedInside = false;
    const subscription = store.subscribe({}, async (event) => {
      received.push(event.version);
      if (event.version === 3) {
        await subscription.close();
        closedInside = true;
      }
    });
    await expect(subscription.closed).resolves.toBeUndefined();
    expect(closedInside).toBe(true);
    expect(received).toEqual([1, 2, 3]);
    expect(subscription.position).toBe((await readEverything(store))[2]!.position);
  });

  ctx.test('a handler error is reported via onError and stops the subscription', async () => {
    const store = ctx.fresh();
    await store.append(randomStreamId(), manyEvents('E', 5));
    const failure = new Error('handler failed on purpose');
    const sub = record(store, {}, (event) => {
      if (event.version === 3) throw failure;
    });
    await waitUntil(() => sub.errors.length > 0, 'onError');
    expect(sub.errors).toHaveLength(1);
    expect(sub.errors[0]).toBe(failure);
    await expect(sub.subscription.closed).rejects.toBe(failure);
    // Nothing after the failing event was handed to the handler.
    expect(sub.events.map((e) => e.version)).toEqual([1, 2, 3]);
    await store.append(randomStreamId(), manyEvents('Later', 1));
    const witness = record(store);
    await witness.waitFor(6);
    await witness.subscription.close();
    expect(sub.events).toHaveLength(3);
  });

  ctx.test('several subscriptions each receive every event once', async () => {
    const store = ctx.fresh();
    const subs = [record(store), record(store), record(store, { after: '0' })];
    const streams = [randomStreamId(), randomStreamId()];
    await Promise.all(
      streams.map(async (id) => {
        for (let i = 0; i < 5; i++) await store.append(id, manyEvents('E', 2));
      }),
    );
    for (const sub of subs) await sub.waitFor(20);
    for (const sub of subs) await sub.subscription.close();
    const log = await readEverything(store);
    for (const sub of subs) expectExactlyOnceInOrder(sub.events, log);
  });
}
