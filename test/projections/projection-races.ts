import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { openStore } from '../../src/index.js';
import { createProjectionRegistry, defineProjection } from '../../src/projections/index.js';
import { spawnWorker } from './spawn-worker.js';

/**
 * Several registrar processes race to register the same usernames at the same moments through
 * withLockOn. Every name must be registered exactly once, and every reported win must be stored.
 */
export async function usernameRace(url: string, processes: number, nameCount: number): Promise<void> {
  const namespace = `race${randomUUID().slice(0, 8)}`;
  const startAt = Date.now() + 1_500;
  const workers = Array.from({ length: processes }, (_, i) =>
    spawnWorker('registrar', [url, namespace, String(i), String(nameCount), String(startAt)]),
  );
  const exits = await Promise.all(workers.map((w) => w.exited));
  for (const exit of exits) expect(exit, exit.stderr).toMatchObject({ code: 0 });
  const won = workers.reduce((sum, w) => sum + Number(w.messages.at(-1)?.won ?? Number.NaN), 0);
  const store = await openStore(url, { namespace });
  try {
    const events = await store.readAll({ filter: { types: ['UserRegistered'] }, limit: 100_000 });
    const names = events.map((e) => (e.data as { name: string }).name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(won);
    expect(won).toBe(nameCount);
  } finally {
    await store.close();
  }
}

/**
 * Two runner processes; the lease holder is killed with SIGKILL while events keep arriving.
 * The standby must take over and the read model must hold every event exactly once.
 * Returns the observed takeover time in milliseconds (reported, not asserted).
 */
export async function leaseTakeover(url: string, leaseTtlMs: number): Promise<number> {
  const namespace = `lease${randomUUID().slice(0, 8)}`;
  const store = await openStore(url, { namespace });
  const first = spawnWorker('runner', [url, namespace, String(leaseTtlMs)]);
  const second = spawnWorker('runner', [url, namespace, String(leaseTtlMs)]);
  try {
    let appended = 0;
    const appendSome = async (count: number) => {
      for (let i = 0; i < count; i++) {
        await store.append(`s-${appended % 4}`, [{ type: 'Tick', data: { n: appended } }]);
        appended += 1;
      }
    };
    await appendSome(20);
    const holderMessage = await Promise.race([
      first.waitFor((m) => m.leaseHeld === true),
      second.waitFor((m) => m.leaseHeld === true),
    ]);
    const [holder, standby] = holderMessage.pid === first.child.pid ? [first, second] : [second, first];
    await standby.waitFor((m) => m.state === 'standby');
    await holder.waitFor((m) => Number(m.processed) > 0);
    await appendSome(10);
    holder.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await holder.exited).signal).toBe('SIGKILL');
    await appendSome(10);
    await standby.waitFor((m) => m.leaseHeld === true);
    const takeoverMs = Date.now() - killedAt;
    await appendSome(10);
    const seen = defineProjection<null, { versions: number[] }>({
      name: 'seen',
      version: 1,
      handlers: { Tick: () => undefined },
    });
    const observer = createProjectionRegistry({ store, projections: [seen] });
    await observer.waitForCatchUp({ timeoutMs: 20_000 });
    const docs = await observer.documents<{ versions: number[] }>('seen').find();
    expect(docs.map((d) => d.id)).toEqual(['s-0', 's-1', 's-2', 's-3']);
    for (const { id, doc } of docs) {
      const expected = await store.streamVersion(id);
      expect(doc.versions).toEqual(Array.from({ length: expected }, (_, i) => i + 1));
    }
    expect((await observer.status('seen')).processed).toBe(appended);
    return takeoverMs;
  } finally {
    first.child.kill('SIGKILL');
    second.child.kill('SIGKILL');
    await Promise.all([first.exited, second.exited]);
    await store.close();
  }
}
