/**
 * Worker process for the linearizability check: performs random appends (with the version it last
 * read, or 'any') and reads on a few streams and prints its history as one JSON line per operation.
 * argv: url namespace processIndex operations
 */
import { performance } from 'node:perf_hooks';
import { openStore } from '../../../src/open-store.js';
import type { HistoryEntry } from '../history-check.js';

const [url, namespace, processArg, opsArg] = process.argv.slice(2);
const processIndex = Number(processArg);
const store = await openStore(url!, { namespace: namespace! });
const now = () => performance.timeOrigin + performance.now();
const streams = ['lin-a', 'lin-b', 'lin-c'];
const known = new Map<string, number>();

for (let i = 0; i < Number(opsArg); i++) {
  const streamId = streams[Math.floor(Math.random() * streams.length)]!;
  let entry: HistoryEntry;
  if (Math.random() < 0.35) {
    const start = now();
    const events = await store.readStream(streamId);
    known.set(streamId, events.length);
    entry = {
      kind: 'read',
      process: processIndex,
      streamId,
      start,
      end: now(),
      ids: events.map((e) => e.id),
    };
  } else {
    const expectedVersion = Math.random() < 0.2 ? 'any' : (known.get(streamId) ?? 0);
    const eventId = `p${processIndex}-${i}`;
    const start = now();
    try {
      const result = await store.append(streamId, [{ id: eventId, type: 'Tick', data: { i } }], {
        expectedVersion,
      });
      known.set(streamId, result.lastVersion);
      entry = {
        kind: 'append',
        process: processIndex,
        streamId,
        eventId,
        expectedVersion,
        start,
        end: now(),
        outcome: { ok: true, version: result.lastVersion },
      };
    } catch (error) {
      const { code, currentVersion } = error as { code?: string; currentVersion?: number };
      if (typeof currentVersion === 'number') known.set(streamId, currentVersion);
      entry = {
        kind: 'append',
        process: processIndex,
        streamId,
        eventId,
        expectedVersion,
        start,
        end: now(),
        outcome: {
          ok: false,
          code: code ?? String(error),
          ...(typeof currentVersion === 'number' ? { currentVersion } : {}),
        },
      };
    }
  }
  process.stdout.write(`${JSON.stringify(entry)}\n`);
}
await store.close();
