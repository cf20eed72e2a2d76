import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openNatsStore } from '../../src/backends/nats/index.js';
import { isVersionConflict, StoreUnavailableError } from '../../src/core/errors.js';
import type { EventStore } from '../../src/core/types.js';
import { freePort, natsServerBinary, PrivateNatsServer } from './nats-private-server.js';

const describeIfBinary = existsSync(natsServerBinary) || process.env.CI === 'true' ? describe : describe.skip;

describeIfBinary('NATS server restart during appends (private nats-server)', () => {
  let server: PrivateNatsServer | undefined;
  let store: EventStore | undefined;
  afterAll(async () => {
    await store?.close().catch(() => undefined);
    await server?.dispose();
  });

  it('fails with StoreUnavailableError while down, loses no acknowledged event, duplicates none and recovers', async () => {
    server = new PrivateNatsServer(await freePort());
    await server.start();
    store = await openNatsStore({ servers: server.address, stream: 'restart', timeoutMs: 500 });
    const s = store;
    const acknowledged = new Map<string, number>(); // event id -> version
    const unavailable: StoreUnavailableError[] = [];
    const other: unknown[] = [];
    let next = 0;
    let stop = false;

    // One writer: each logical event is retried with the same id until it is acknowledged.
    const writer = (async () => {
      while (!stop) {
        const id = `e-${next}`;
        try {
          const result = await s.append('hot', [{ type: 'Tick', data: { n: next }, id }]);
          acknowledged.set(id, result.firstVersion);
          next++;
        } catch (error) {
          if (error instanceof StoreUnavailableError) unavailable.push(error);
          else if (!isVersionConflict(error)) other.push(error);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    })();
    const until = async (condition: () => boolean, what: string) => {
      const deadline = Date.now() + 20_000;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    await until(() => acknowledged.size >= 30, '30 acknowledged appends');
    await server.kill();
    const ackedBeforeRestart = acknowledged.size;
    await until(() => unavailable.length >= 2, 'StoreUnavailableError while the server is down');
    // Reads fail the same typed way while the server is down.
    await expect(s.streamVersion('hot')).rejects.toBeInstanceOf(StoreUnavailableError);
    await server.start();
    await until(
      () => acknowledged.size >= ackedBeforeRestart + 30,
      '30 more acknowledged appends after the restart',
    );
    stop = true;
    await writer;

    expect(other).toEqual([]);
    expect(unavailable[0]!.code).toBe('STORE_UNAVAILABLE');
    const events = await s.readStream('hot');
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length); // no duplicate
    expect(events.map((e) => e.version)).toEqual(ids.map((_, i) => i + 1)); // contiguous versions
    for (const [id, version] of acknowledged) {
      expect(events[version - 1]?.id, `acknowledged ${id} at version ${version}`).toBe(id);
    }
    // Events are written in order and each retried until acknowledged: the log is exactly e-0..e-(next-1).
    expect(ids).toEqual(Array.from({ length: next }, (_, i) => `e-${i}`));
    expect(await s.streamVersion('hot')).toBe(next);
  }, 60_000);
});
