import { expect } from 'vitest';
import {
  type ConformanceContext,
  newEvent,
  randomNamespace,
  randomStreamId,
  readEverything,
  waitUntil,
} from '../conformance-context.js';
import { runKilledWriterRace } from '../killed-writer-race.js';
import { runSeatBookingRace } from '../seat-booking-race.js';
import { spawnTestWorker, type TestWorker } from '../spawn-test-worker.js';
import { expectExactlyOnceInOrder } from './subscription-cases.js';
import { record } from './subscription-helpers.js';

const RACE_TIMEOUT_MS = 60_000;

/** Starts workers, releases them together once all are ready, and waits for clean exits. */
async function runTogether(workers: TestWorker[]): Promise<string[][]> {
  try {
    await Promise.all(workers.map((w) => w.waitForLine((line) => line === 'ready')));
    for (const w of workers) w.send('go');
    return await Promise.all(
      workers.map(async (w) => {
        const { code, signal, stderr } = await w.exited;
        if (code !== 0) throw new Error(`worker exited with code ${code} (signal ${signal}): ${stderr}`);
        return [...w.lines];
      }),
    );
  } finally {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  }
}

/** Races between OS processes, each with its own connection, on the store at `config.url`. */
export function multiProcessCases(ctx: ConformanceContext): void {
  const url = ctx.config.url;
  const unsupported = !ctx.root().capabilities.multiProcess
    ? 'single process only'
    : url === undefined
      ? 'config.url not given'
      : undefined;

  ctx.test(
    'processes racing on one stream with the same expected versions get exactly one winner per version',
    async () => {
      const namespace = randomNamespace('race');
      const streamId = randomStreamId('race');
      const processes = 4;
      const versions = Math.max(5, Math.round(20 * ctx.scale));
      const outputs = await runTogether(
        Array.from({ length: processes }, (_, i) =>
          spawnTestWorker('version-race-worker', [url!, namespace, streamId, String(versions), String(i)]),
        ),
      );
      const reports = outputs.map((lines) => {
        const line = lines.find((l) => l.startsWith('{'));
        if (!line) throw new Error(`race worker printed no report: ${lines.join('\n')}`);
        return JSON.parse(line) as {
          worker: number;
          won: number[];
          lost: Array<{ expected: number; current: number }>;
        };
      });
      const winners = new Map<number, number[]>();
      for (const report of reports) {
        for (const expected of report.won)
          winners.set(expected, [...(winners.get(expected) ?? []), report.worker]);
        // A conflict reports the real version: the stream had moved past the expected one.
        for (const { expected, current } of report.lost) {
          expect(current).toBeGreaterThan(expected);
          expect(current).toBeLessThanOrEqual(versions);
        }
      }
      for (let expected = 0; expected < versions; expected++) {
        expect(winners.get(expected), `winners of expected version ${expected}`).toHaveLength(1);
      }
      const store = ctx.root().withNamespace(namespace);
      const events = await store.readStream(streamId);
      expect(events.map((e) => e.version)).toEqual(Array.from({ length: versions }, (_, i) => i + 1));
      for (const event of events) {
        const { worker, expected } = event.data as { worker: number; expected: number };
        expect(expected).toBe(event.version - 1);
        expect(winners.get(expected)).toEqual([worker]);
      }
      expect(await store.streamVersion(streamId)).toBe(versions);
    },
    { timeout: RACE_TIMEOUT_MS, unsupported },
  );

  ctx.test(
    'processes racing to append under the same condition get exactly one winner per condition',
    async () => {
      const namespace = randomNamespace('claim');
      const processes = 4;
      const resources = Math.max(5, Math.round(15 * ctx.scale));
      const outputs = await runTogether(
        Array.from({ length: processes }, (_, i) =>
          spawnTestWorker('condition-race-worker', [url!, namespace, String(resources), String(i)]),
        ),
      );
      const winners = new Map<number, number[]>();
      for (const lines of outputs) {
        const line = lines.find((l) => l.startsWith('{'));
        if (!line) throw new Error(`condition race worker printed no report: ${lines.join('\n')}`);
        const report = JSON.parse(line) as { worker: number; won: number[] };
        for (const resource of report.won)
          winners.set(resource, [...(winners.get(resource) ?? []), report.worker]);
      }
      for (let resource = 0; resource < resources; resource++) {
        expect(winners.get(resource), `winners of resource ${resource}`).toHaveLength(1);
      }
      const store = ctx.namespace(namespace);
      let claims = await readEverything(store);
      await waitUntil(async () => {
        claims = await readEverything(store);
        return claims.length >= resources;
      }, `${resources} claims in readAll`);
      expect(claims).toHaveLength(resources);
      for (const claim of claims) {
        const { worker, resource } = claim.data as { worker: number; resource: number };
        expect(winners.get(resource)).toEqual([worker]);
        expect(claim.streamId).toBe(`claimer-${worker}`);
      }
    },
    { timeout: RACE_TIMEOUT_MS, unsupported },
  );

  ctx.test(
    'a seat-booking race between processes through handleCommand books every seat exactly once',
    async () => {
      const seats = 100;
      const processes = 4;
      // Enough attempts for every seat even if one process is much slower than the others.
      const attempts = Math.ceil((seats / processes) * 1.5);
      const result = await runSeatBookingRace({ url: url!, processes, attempts, seats });
      expect(result.violations).toEqual([]);
      expect(result.stored).toBe(seats);
      expect(result.acknowledged).toBe(seats);
      expect(result.streamVersion).toBe(seats);
      expect(result.gaveUp).toBe(0);
    },
    { timeout: RACE_TIMEOUT_MS, unsupported },
  );

  ctx.test(
    'a subscription receives events appended by several processes exactly once, in order',
    async () => {
      const namespace = randomNamespace('procs');
      const store = ctx.namespace(namespace);
      await store.append(randomStreamId('history'), [newEvent('Past'), newEvent('Past')]);
      const sub = record(store);
      await sub.waitFor(2);
      const writers = 3;
      const appends = Math.max(5, Math.round(15 * ctx.scale));
      const shared = randomStreamId('shared');
      const outputs = await runTogether(
        Array.from({ length: writers }, (_, i) =>
          spawnTestWorker('append-writer-worker', [url!, namespace, String(i), String(appends), shared]),
        ),
      );
      const written = outputs.reduce(
        (n, lines) => n + Number(lines.find((l) => l.startsWith('done '))!.slice(5)),
        0,
      );
      // Other processes' commits may become visible a moment after they were acknowledged.
      let log = await readEverything(store);
      await waitUntil(
        async () => {
          log = await readEverything(store);
          return log.length >= 2 + written;
        },
        `${2 + written} events in readAll`,
      );
      expect(log).toHaveLength(2 + written);
      // Appended by this process, so also a wake-up: everything before it must have been delivered.
      await store.append(randomStreamId('marker'), [newEvent('Marker')]);
      await sub.waitFor(log.length + 1, 30_000);
      await sub.subscription.close();
      expectExactlyOnceInOrder(sub.events, await readEverything(store));
      expect(sub.errors).toEqual([]);
    },
    { timeout: RACE_TIMEOUT_MS, unsupported },
  );

  ctx.test(
    'writers killed with SIGKILL in the middle of appends leave only complete appends behind',
    async () => {
      const batchSize = 20;
      const result = await runKilledWriterRace({ url: url!, writers: 3, batchSize, maxDelayMs: 300 });
      expect(result.violations).toEqual([]);
      expect(result.acknowledged).toBeGreaterThanOrEqual(3);
      expect(result.storedBatches).toBeGreaterThanOrEqual(result.acknowledged);
      expect(result.storedEvents).toBe(result.storedBatches * batchSize);
    },
    { timeout: RACE_TIMEOUT_MS, unsupported },
  );
}
