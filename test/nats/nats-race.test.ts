import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { openNatsStore } from '../../src/backends/nats/index.js';
import { spawnTestWorker, type TestWorker } from '../../src/testing/spawn-test-worker.js';
import { describeWithService, natsUrl } from '../support/services.js';
import { deleteStreams, natsServer, uniquePrefix } from './nats-helpers.js';

const prefix = uniquePrefix('race');
const url = `${natsUrl}?stream=${prefix}`;
const PROCESSES = 4;

/** Waits until every worker is ready, releases them together and returns their report lines. */
async function runTogether(workers: TestWorker[]): Promise<string[]> {
  try {
    await Promise.all(workers.map((w) => w.waitForLine((line) => line === 'ready')));
    for (const w of workers) w.send('go');
    return await Promise.all(
      workers.map(async (w) => {
        const { code, stderr } = await w.exited;
        if (code !== 0) throw new Error(`worker exited with code ${code}: ${stderr}`);
        const report = w.lines.find((l) => l.startsWith('{'));
        if (!report) throw new Error(`worker printed no report: ${w.lines.join('\n')}`);
        return report;
      }),
    );
  } finally {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  }
}

/** Starts this folder's `workers/<name>.ts` in its own Node.js process (the shared helper only knows its own workers). */
function spawnLocalWorker(name: string, args: string[]): TestWorker {
  const script = fileURLToPath(new URL(`./workers/${name}.ts`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.on('error', () => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
    },
  );
  let done = false;
  exited.then(() => {
    done = true;
  });
  return {
    child,
    lines,
    exited,
    async waitForLine(predicate) {
      // Polls the collected lines: the worker prints a handful of lines, so this stays cheap.
      for (;;) {
        const found = lines.find(predicate);
        if (found !== undefined) return found;
        if (done) throw new Error(`worker ${name} exited early: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    send(line) {
      child.stdin.write(`${line}\n`);
    },
  };
}

describeWithService('nats', 'nats multi-process races', () => {
  afterAll(() => deleteStreams(prefix, natsServer(natsUrl)));

  it('processes racing with the same expected versions on one hot stream get exactly one winner per version', async () => {
    const namespace = 'versions';
    const versions = 25;
    const reports = (
      await runTogether(
        Array.from({ length: PROCESSES }, (_, i) =>
          spawnTestWorker('version-race-worker', [url, namespace, 'hot', String(versions), String(i)]),
        ),
      )
    ).map(
      (line) =>
        JSON.parse(line) as {
          worker: number;
          won: number[];
          lost: Array<{ expected: number; current: number }>;
        },
    );
    const winners = new Map<number, number>();
    for (const report of reports) {
      for (const v of report.won) winners.set(v, (winners.get(v) ?? 0) + 1);
      for (const { expected, current } of report.lost) expect(current).toBeGreaterThan(expected);
    }
    for (let v = 0; v < versions; v++) expect(winners.get(v), `winners of version ${v}`).toBe(1);
    const store = await openNatsStore({ servers: natsServer(natsUrl), stream: prefix, namespace });
    try {
      const events = await store.readStream('hot');
      expect(events.map((e) => e.version)).toEqual(Array.from({ length: versions }, (_, i) => i + 1));
      expect(await store.streamVersion('hot')).toBe(versions);
    } finally {
      await store.close();
    }
  }, 60_000);

  it("processes appending with 'any' to one hot stream get distinct contiguous versions, and one condition winner", async () => {
    const namespace = 'any';
    const count = 30;
    const reports = (
      await runTogether(
        Array.from({ length: PROCESSES }, (_, i) =>
          spawnLocalWorker('any-append-worker', [url, namespace, 'hot', String(count), String(i)]),
        ),
      )
    ).map((line) => JSON.parse(line) as { worker: number; versions: number[]; claimed: boolean });
    const given = reports.flatMap((r) => r.versions).sort((a, b) => a - b);
    expect(given).toEqual(Array.from({ length: PROCESSES * count }, (_, i) => i + 1));
    expect(reports.filter((r) => r.claimed)).toHaveLength(1);
    const store = await openNatsStore({ servers: natsServer(natsUrl), stream: prefix, namespace });
    try {
      const events = await store.readStream('hot');
      expect(events).toHaveLength(PROCESSES * count);
      expect(new Set(events.map((e) => e.id)).size).toBe(PROCESSES * count);
      // Each worker's events keep their order within the stream.
      for (let w = 0; w < PROCESSES; w++) {
        const mine = events
          .filter((e) => (e.data as { worker: number }).worker === w)
          .map((e) => (e.data as { i: number }).i);
        expect(mine).toEqual(Array.from({ length: count }, (_, i) => i));
      }
      expect(await store.readAll({ filter: { types: ['Claimed'] } })).toHaveLength(1);
    } finally {
      await store.close();
    }
  }, 60_000);
});
