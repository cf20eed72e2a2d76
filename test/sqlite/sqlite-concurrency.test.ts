import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/backends/sqlite/index.js';
import { StoreUnavailableError } from '../../src/core/errors.js';
import type { RecordedEvent } from '../../src/core/types.js';
import { runWorker, tempDir } from './run-worker.js';

async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('sqlite with several connections and processes', () => {
  it('fails an append with StoreUnavailableError while another process holds the write lock past the busy timeout, writing nothing', async () => {
    const path = join(tempDir(), 'busy.db');
    const store = await openSqliteStore({ path, busyTimeoutMs: 50 });
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = runWorker('sqlite-hold-lock', [path, '1500'], (line) => line === 'locked' && locked());
    await lockTaken;
    const error = await store.append('s', [{ type: 'A', data: {} }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(((error as Error).cause as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
    // WAL readers are not blocked by the writer, and nothing was written.
    expect(await store.streamVersion('s')).toBe(0);
    await holder;
    const result = await store.append('s', [{ type: 'A', data: {} }]);
    expect(result.lastVersion).toBe(1);
    await store.close();
  }, 30_000);

  it('waits for a short-lived lock of another process instead of failing', async () => {
    const path = join(tempDir(), 'wait.db');
    const store = await openSqliteStore({ path, busyTimeoutMs: 20_000 });
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = runWorker('sqlite-hold-lock', [path, '300'], (line) => line === 'locked' && locked());
    await lockTaken;
    const result = await store.append('s', [{ type: 'A', data: {} }], { expectedVersion: 'no_stream' });
    expect(result.lastVersion).toBe(1);
    await holder;
    await store.close();
  }, 30_000);

  it('delivers appends of another process to a live subscription through polling', async () => {
    const path = join(tempDir(), 'poll.db');
    const store = await openSqliteStore({ path, pollIntervalMs: 50 });
    const received: RecordedEvent[] = [];
    const subscription = store.subscribe({}, (event) => {
      received.push(event);
    });
    await runWorker('sqlite-open-append', [path, 'default', 'remote', '5']);
    await waitUntil(() => received.length >= 5, 'five events from the other process');
    await subscription.close();
    expect(received.map((e) => [e.streamId, e.version, e.type])).toEqual(
      [1, 2, 3, 4, 5].map((v) => ['remote', v, 'FromChild']),
    );
    await store.close();
  }, 30_000);

  it('wakes subscriptions of other connections to the same file in this process without polling', async () => {
    const path = join(tempDir(), 'wake.db');
    // A poll interval far beyond the test's bound: only the in-process wake-up can deliver in time.
    const reader = await openSqliteStore({ path, pollIntervalMs: 3_600_000 });
    const writer = await openSqliteStore({ path });
    const received: RecordedEvent[] = [];
    let caughtUp = false;
    const subscription = reader.subscribe({ onCaughtUp: () => (caughtUp = true) }, (event) => {
      received.push(event);
    });
    await waitUntil(() => caughtUp, 'catch-up');
    await writer.append('s', [{ type: 'A', data: 1 }]);
    await waitUntil(() => received.length === 1, 'the woken subscription');
    await subscription.close();
    await writer.close();
    await reader.close();
  }, 30_000);

  it('lets exactly one of two connections win a race on the same expected version', async () => {
    const path = join(tempDir(), 'two.db');
    const a = await openSqliteStore({ path });
    const b = await openSqliteStore({ path });
    await a.append('s', [{ type: 'A', data: 0 }]);
    const outcomes = await Promise.allSettled([
      a.append('s', [{ type: 'A', data: 'a' }], { expectedVersion: 1 }),
      b.append('s', [{ type: 'A', data: 'b' }], { expectedVersion: 1 }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'VERSION_CONFLICT', currentVersion: 2 });
    expect(await b.streamVersion('s')).toBe(2);
    await a.close();
    await b.close();
  });
});
