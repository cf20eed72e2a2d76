/**
 * Fault scenarios at a larger scale than the tests, per backend, with the counts written to
 * `bench/results/reliability.json`: `npx tsx bench/reliability.ts [--quick] [--backends sqlite,postgres,nats]`.
 *
 * Scenarios (the same code the tests in test/reliability/ run, with bigger sizes):
 * - kill-writers: writer processes SIGKILLed mid-batch; audit of the log.
 * - survivors: some writers SIGKILLed while others must finish every batch.
 * - projection-kill: a projection runner process SIGKILLed mid-catch-up, then resumed.
 * - postgres-terminate: pg_terminate_backend of the store's connections under load.
 * - nats-restart: a private nats-server SIGKILLed and restarted under load.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { openStore } from '../src/open-store.js';
import { deleteStreams, natsServer } from '../test/nats/nats-helpers.js';
import { runKillScenario, runSurvivorScenario } from '../test/reliability/kill-writers.js';
import { runNatsRestartScenario } from '../test/reliability/nats-restart.js';
import { dropScratchSchema, runPostgresFaultScenario } from '../test/reliability/postgres-faults.js';
import { runProjectionKillScenario } from '../test/reliability/projection-kill.js';

type Backend = 'sqlite' | 'postgres' | 'nats';

interface ScenarioRecord {
  backend: Backend;
  scenario: string;
  description: string;
  durationMs: number;
  /** Zero-valued invariants (lost, partial, duplicates, …) and the booleans that must hold. */
  pass: boolean;
  counts: Record<string, number | boolean | string | string[]>;
}

const program = new Command()
  .option('--quick', 'smaller sizes (a smoke run)', false)
  .option('--backends <list>', 'comma-separated backends', 'sqlite,postgres,nats')
  .option(
    '--postgres <url>',
    'PostgreSQL server',
    process.env.ORDO_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  )
  .option(
    '--nats <url>',
    'shared NATS server (the restart scenario starts its own)',
    process.env.ORDO_TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
  )
  .option('--out <file>', 'result file', 'bench/results/reliability.json')
  .parse();
const options = program.opts<{
  quick: boolean;
  backends: string;
  postgres: string;
  nats: string;
  out: string;
}>();
const backends = options.backends.split(',') as Backend[];
const scale = options.quick ? 0.25 : 1;
const sized = (n: number) => Math.max(1, Math.round(n * scale));

const sqliteDir = mkdtempSync(join(os.tmpdir(), 'ordo-reliability-bench-'));
const pgSchema = `ordo_relbench_${randomUUID().slice(0, 8)}`;
const natsStream = `relbench-${randomUUID().slice(0, 8)}`;

function urlFor(backend: Backend): string {
  if (backend === 'sqlite') return `sqlite:${join(sqliteDir, 'store.db')}`;
  if (backend === 'postgres') {
    const url = new URL(options.postgres);
    url.searchParams.set('schema', pgSchema);
    return url.toString();
  }
  return `${options.nats}?stream=${natsStream}`;
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; durationMs: number }> {
  const started = performance.now();
  const result = await run();
  return { result, durationMs: Math.round(performance.now() - started) };
}

const records: ScenarioRecord[] = [];
function record(entry: ScenarioRecord): void {
  records.push(entry);
  console.log(
    `${entry.pass ? 'ok  ' : 'FAIL'} ${entry.backend.padEnd(8)} ${entry.scenario.padEnd(20)} ${entry.durationMs} ms ${JSON.stringify(entry.counts)}`,
  );
}

for (const backend of backends) {
  const url = urlFor(backend);
  {
    const namespace = `bk${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const store = await openStore(url, { namespace });
    const batchSize = 50;
    const { result, durationMs } = await timed(() =>
      runKillScenario(store, { url, namespace, writers: 4, batchSize, maxRunMs: sized(4_000) }),
    );
    await store.close();
    record({
      backend,
      scenario: 'kill-writers',
      description: `4 writer processes appending ${batchSize}-event batches, each SIGKILLed at a random moment`,
      durationMs,
      pass:
        result.lostAcknowledged === 0 &&
        result.partialBatches === 0 &&
        result.duplicates === 0 &&
        result.storedEvents === result.storedBatches * batchSize,
      counts: { ...result, unacknowledgedButStored: result.storedBatches - result.acknowledgedBatches },
    });
  }
  {
    const namespace = `bs${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const store = await openStore(url, { namespace });
    const batchesAfterKill = sized(400);
    const { result, durationMs } = await timed(() =>
      runSurvivorScenario(store, {
        url,
        namespace,
        victims: 2,
        survivors: 2,
        batchesAfterKill,
        batchSize: 20,
        maxRunMs: sized(3_000),
        timeoutMs: 120_000,
      }),
    );
    await store.close();
    record({
      backend,
      scenario: 'survivors',
      description: `2 writer processes SIGKILLed mid-batch while 2 others keep writing; the survivors must acknowledge ${batchesAfterKill} more batches after the last kill and stop cleanly`,
      durationMs,
      pass:
        result.survivorAcks - result.survivorAcksAtLastKill >= batchesAfterKill &&
        result.lostAcknowledged === 0 &&
        result.partialBatches === 0 &&
        result.duplicates === 0,
      counts: { ...result },
    });
  }
  {
    const events = sized(10_000);
    const { result, durationMs } = await timed(() =>
      runProjectionKillScenario({
        url,
        events,
        killAtProcessed: Math.round(events * 0.3),
        batchSize: 50,
        leaseTtlMs: 1_000,
        pauseEvery: 5,
      }),
    );
    record({
      backend,
      scenario: 'projection-kill',
      description: `projection runner process SIGKILLed after ~30% of a ${events}-event catch-up, then resumed by a new process`,
      durationMs,
      pass:
        result.equalsCleanRebuild &&
        result.finalProcessed === events &&
        result.resumedFrom >= result.checkpointAtKill &&
        result.checkpointAtKill < events,
      counts: { ...result },
    });
  }
  if (backend === 'postgres') {
    const { result, durationMs } = await timed(() =>
      runPostgresFaultScenario({
        connectionString: options.postgres,
        schema: pgSchema,
        writers: 4,
        batches: sized(150),
        batchSize: 5,
        terminateEvery: sized(60),
      }),
    );
    record({
      backend,
      scenario: 'postgres-terminate',
      description:
        'pg_terminate_backend of every connection of the store (pool and projection lease) repeatedly while 4 writers append, a projection runs and a subscriber follows',
      durationMs,
      pass:
        result.unexpected.length === 0 &&
        result.lost === 0 &&
        result.partial === 0 &&
        result.duplicates === 0 &&
        result.subscriptionExactlyOnceInOrder &&
        result.projectionEqualsCleanRebuild &&
        result.projectionErrorCodes.every((code) => code === 'STORE_UNAVAILABLE' || code === 'LEASE_LOST'),
      counts: { ...result },
    });
  }
  if (backend === 'nats') {
    const { result, durationMs } = await timed(() =>
      runNatsRestartScenario({
        writers: 4,
        batches: sized(100),
        batchSize: 5,
        restartEvery: sized(100),
        downMs: 1_500,
      }),
    );
    record({
      backend,
      scenario: 'nats-restart',
      description:
        'private nats-server SIGKILLed and restarted (same port and storage) repeatedly while 4 writers append, a projection runs and a subscriber follows',
      durationMs,
      pass:
        result.unexpected.length === 0 &&
        result.lost === 0 &&
        result.partial === 0 &&
        result.duplicates === 0 &&
        result.readsWhileDownTyped === result.readsWhileDown &&
        result.subscriptionExactlyOnceInOrder &&
        result.projectionEqualsCleanRebuild &&
        result.projectionErrorCodes.every((code) => code === 'STORE_UNAVAILABLE' || code === 'LEASE_LOST'),
      counts: { ...result },
    });
  }
}

rmSync(sqliteDir, { recursive: true, force: true });
if (backends.includes('postgres')) await dropScratchSchema(options.postgres, pgSchema).catch(() => {});
if (backends.includes('nats')) await deleteStreams(natsStream, natsServer(options.nats)).catch(() => {});
const output = {
  date: new Date().toISOString(),
  quick: options.quick,
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    totalMemoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: os.loadavg()[0],
  },
  scenarios: records,
};
writeFileSync(options.out, `${JSON.stringify(output, null, 2)}\n`);
console.log(`wrote ${options.out}: ${records.filter((r) => r.pass).length}/${records.length} scenarios pass`);
// Every store, child process and private server was closed above; a full run was once seen to
// stay alive after writing its results (an unidentified client-library handle), so end explicitly.
process.exit(records.some((r) => !r.pass) ? 1 : 0);
