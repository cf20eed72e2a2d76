import { expect } from 'vitest';
import { StoreClosedError } from '../../core/errors.js';
import type { EventStore } from '../../core/types.js';
import {
  type ConformanceContext,
  describeError,
  failureOf,
  newEvent,
  randomNamespace,
  randomStreamId,
} from '../conformance-context.js';
import { record } from './subscription-helpers.js';

async function expectClosed(what: string, action: () => unknown): Promise<void> {
  const error = await failureOf(action);
  if (!(error instanceof StoreClosedError) || error.code !== 'STORE_CLOSED') {
    throw new Error(`${what}: expected StoreClosedError, got ${describeError(error)}`, { cause: error });
  }
}

async function expectEverythingClosed(store: EventStore, id: string): Promise<void> {
  await expectClosed('append', () => store.append(id, [newEvent('A')]));
  await expectClosed('readStream', () => store.readStream(id));
  await expectClosed('readStreamWithErrors', () => store.readStreamWithErrors(id));
  await expectClosed('streamVersion', () => store.streamVersion(id));
  await expectClosed('readAll', () => store.readAll());
  await expectClosed('headPosition', () => store.headPosition());
  // A subscription may fail at once or through `closed`; either way with StoreClosedError.
  await expectClosed('subscribe', () => store.subscribe({ onError: () => {} }, () => {}).closed);
  await expectClosed('saveSnapshot', () => store.saveSnapshot(id, { version: 1, state: {} }));
  await expectClosed('loadSnapshot', () => store.loadSnapshot(id));
}

/** A closed store fails every call with `StoreClosedError` and ends its subscriptions. */
export function closedStoreCases(ctx: ConformanceContext): void {
  ctx.test('a closed store throws StoreClosedError and ends its subscriptions', async () => {
    const opened = await ctx.config.create();
    const store = opened.withNamespace(randomNamespace());
    const id = randomStreamId();
    await store.append(id, [newEvent('A')]);
    const sub = record(opened);
    const derivedSub = record(store);
    await opened.close();
    await expect(sub.subscription.closed).resolves.toBeUndefined();
    // Stores derived with withNamespace share the connection, so they are closed with it.
    await expect(derivedSub.subscription.closed).resolves.toBeUndefined();
    await opened.close(); // closing twice is harmless
    await expectEverythingClosed(opened, id);
    await expectEverythingClosed(store, id);
  });

  ctx.test('closing a namespaced store leaves the connection open for others', async () => {
    const name = randomNamespace();
    const store = ctx.root().withNamespace(name);
    const id = randomStreamId();
    await store.append(id, [newEvent('A')]);
    const sub = record(store);
    await store.close();
    await expect(sub.subscription.closed).resolves.toBeUndefined();
    await expectEverythingClosed(store, id);
    const again = ctx.root().withNamespace(name);
    expect(await again.streamVersion(id)).toBe(1);
    await again.append(id, [newEvent('B')], { expectedVersion: 1 });
    expect(await ctx.root().withNamespace(name).streamVersion(id)).toBe(2);
  });
}
