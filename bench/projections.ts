// Projection benchmarks: catch-up speed of simple async projections and withLockOn throughput
// under contention, per backend. Run directly: `npx tsx bench/projections.ts [--quick] [--backends=sqlite,postgres]`.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createInMemoryStore, type EventStore, isConflict } from '../src/index.js';
import {
  type AnyProjection,
  createProjectionRegistry,
  defineProjection,
  LockAbortedError,
  LockRetriesExhaustedError,
  withLockOn,
} from '../src/projections/index.js';

type Backend = 'memory' | 'sqlite' | 'postgres' | 'nats';

export interface ProjectionBenchmarkOptions {
  /** Backends to measure (default: all; unreachable servers are reported as skipped). */
  backends?: Backend[];
  /** Events the catch-up projections process (default 200 000; 20 000 with `quick`). */
  events?: number;
  /** Concurrent deciders in the withLockOn benchmark (default 4). */
  deciders?: number;
  /** Decisions each decider makes (default 200; 50 with `quick`). */
  decisions?: number;
  quick?: boolean;
  postgresUrl?: string;
  natsUrl?: string;
  /** Result file (default `bench/results/projections.json`). */
  out?: string;
  log?: (line: string) => void;
}

interface CatchUpResult {
  projection: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  target: number | null;
  meetsTarget: boolean | null;
  batchSize: number;
}

interface LockResult {
  deciders: number;
  decisions: number;
  seconds: number;
  decisionsPerSecond: number;
  attempts: number;
  conflictRetries: number;
  exhausted: number;
}

interface BackendOutcome {
  backend: Backend;
  catchUp?: CatchUpResult[];
  withLockOn?: LockResult;
  skipped?: string;
}

const targets: Partial<Record<Backend, number>> = { sqlite: 100_000, postgres: 50_000, nats: 50_000 };
const batchSize = 2_000;

/** The simple projection measured against the targets: order count and revenue in its state. */
const revenue = defineProjection<{ orders: number; total: number }>({
  name: 'bench-revenue',
  version: 1,
  init: () => ({ orders: 0, total: 0 }),
  handlers: {
    OrderPlaced: (state, event) => ({
      orders: state.orders + 1,
      total: state.total + (event.data as { total: number }).total,
    }),
  },
});

/** A document projection: orders and totals per customer (100 documents read and written per batch). */
const totals = defineProjection<{ orders: number }, { orders: number; total: number }>({
  name: 'bench-totals',
  version: 1,
  init: () => ({ orders: 0 }),
  handlers: {
    OrderPlaced: async (state, event, { docs }) => {
      const { customer, total } = event.data as { customer: string; total: number };
      const doc = (await docs.get(customer)) ?? { orders: 0, total: 0 };
      docs.put(customer, { orders: doc.orders + 1, total: doc.total + total });
      return { orders: state.orders + 1 };
    },
  },
});

const counter = defineProjection<{ value: number }>({
  name: 'bench-counter',
  version: 1,
  init: () => ({ value: 0 }),
  handlers: { Incremented: (state) => ({ value: state.value + 1 }) },
});

async function open(backend: Backend, options: ProjectionBenchmarkOptions, dir: string): Promise<EventStore> {
  const namespace = `bench${randomUUID().slice(0, 8)}`;
  switch (backend) {
    case 'memory':
      return createInMemoryStore({ namespace });
    case 'sqlite': {
      const { openSqliteStore } = await import('../src/backends/sqlite/index.js');
      return openSqliteStore({ path: join(dir, `${namespace}.db`), namespace });
    }
    case 'postgres': {
      const { openPostgresStore } = await import('../src/backends/postgres/index.js');
      const url =
        options.postgresUrl ??
        process.env.ORDO_TEST_POSTGRES_URL ??
        'postgres://postgres@127.0.0.1:5432/test';
      return openPostgresStore({ connectionString: url, schema: 'ordo_bench_projections', namespace });
    }
    case 'nats': {
      const { openNatsStore } = await import('../src/backends/nats/index.js');
      const url = new URL(options.natsUrl ?? process.env.ORDO_TEST_NATS_URL ?? 'nats://127.0.0.1:4222');
      return openNatsStore({ servers: url.host, stream: 'benchproj', namespace });
    }
  }
}

async function seed(store: EventStore, events: number): Promise<void> {
  const perAppend = 100;
  let written = 0;
  let stream = 0;
  while (written < events) {
    const count = Math.min(perAppend, events - written);
    const batch = Array.from({ length: count }, (_, i) => ({
      type: 'OrderPlaced',
      data: { customer: `c${(written + i) % 100}`, total: 1 },
    }));
    await store.append(`order-${stream++}`, batch);
    written += count;
  }
}

/** Time from `start()` until the projection has applied every event. */
async function catchUp(
  store: EventStore,
  projection: AnyProjection,
  events: number,
  target: number | null,
): Promise<CatchUpResult> {
  const registry = createProjectionRegistry({ store, projections: [projection], batchSize });
  const started = performance.now();
  await registry.start();
  await registry.waitForCatchUp({ timeoutMs: 600_000 });
  const seconds = (performance.now() - started) / 1000;
  const status = await registry.status(projection.name);
  await registry.stop();
  if (status.processed !== events)
    throw new Error(`catch-up processed ${status.processed} of ${events} events`);
  const eventsPerSecond = events / seconds;
  return {
    projection: projection.name,
    events,
    seconds,
    eventsPerSecond,
    target,
    meetsTarget: target === null ? null : eventsPerSecond >= target,
    batchSize,
  };
}

/** A small run on a separate namespace so that JIT compilation is not measured. */
async function warmUp(store: EventStore): Promise<void> {
  const warm = store.withNamespace(`${store.namespace}warm`);
  await seed(warm, 10_000);
  for (const projection of [revenue, totals]) await catchUp(warm, projection, 10_000, null);
}

/** `deciders` concurrent loops, each making `decisions` withLockOn decisions on one shared projection. */
async function lockContention(store: EventStore, deciders: number, decisions: number): Promise<LockResult> {
  let attempts = 0;
  let exhausted = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: deciders }, async (_, d) => {
      for (let i = 0; i < decisions; i++) {
        try {
          await withLockOn(store, counter)
            .retries(1_000)
            .attempt((view, tx) => {
              attempts += 1;
              if (view.value < 0) tx.abort('impossible');
              tx.publish(`counter-${d}`, { type: 'Incremented', data: { by: d } });
            });
        } catch (error) {
          if (error instanceof LockRetriesExhaustedError) exhausted += 1;
          else if (!(error instanceof LockAbortedError) && !isConflict(error)) throw error;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const done = deciders * decisions - exhausted;
  return {
    deciders,
    decisions: done,
    seconds,
    decisionsPerSecond: done / seconds,
    attempts,
    conflictRetries: attempts - done,
    exhausted,
  };
}

/**
 * Runs the projection benchmarks and writes `bench/results/projections.json`. A backend whose
 * server is unreachable is recorded as skipped with the reason, never silently left out.
 */
export async function runProjectionBenchmarks(
  options: ProjectionBenchmarkOptions = {},
): Promise<BackendOutcome[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const quick = options.quick ?? false;
  const events = options.events ?? (quick ? 20_000 : 200_000);
  const deciders = options.deciders ?? 4;
  const decisions = options.decisions ?? (quick ? 50 : 200);
  const backends = options.backends ?? ['memory', 'sqlite', 'postgres', 'nats'];
  const dir = mkdtempSync(join(tmpdir(), 'ordo-bench-projections-'));
  const outcomes: BackendOutcome[] = [];
  try {
    for (const backend of backends) {
      let store: EventStore;
      try {
        store = await open(backend, options, dir);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        log(`${backend}: skipped (${reason})`);
        outcomes.push({ backend, skipped: reason });
        continue;
      }
      try {
        await warmUp(store);
        await seed(store, events);
        const catchUpResults: CatchUpResult[] = [];
        for (const projection of [revenue, totals]) {
          const target = projection === revenue ? (targets[backend] ?? null) : null;
          const result = await catchUp(store, projection, events, target);
          catchUpResults.push(result);
          log(
            `${backend}: ${projection.name} catch-up of ${events} events in ${result.seconds.toFixed(2)} s = ${Math.round(result.eventsPerSecond)} events/s` +
              (result.target ? ` (target ${result.target}: ${result.meetsTarget ? 'met' : 'MISSED'})` : ''),
          );
        }
        const lock = await lockContention(store.withNamespace(`${store.namespace}lock`), deciders, decisions);
        log(
          `${backend}: withLockOn ${deciders} deciders, ${lock.decisions} decisions in ${lock.seconds.toFixed(2)} s = ${Math.round(lock.decisionsPerSecond)}/s, ${lock.conflictRetries} conflict retries`,
        );
        outcomes.push({ backend, catchUp: catchUpResults, withLockOn: lock });
      } finally {
        await store.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const out = options.out ?? join(dirname(fileURLToPath(import.meta.url)), 'results', 'projections.json');
  await mkdir(dirname(out), { recursive: true });
  const machine = {
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
  };
  const report = { date: new Date().toISOString(), machine, quick, events, results: outcomes };
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  log(`results written to ${out}`);
  return outcomes;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const only = args.find((a) => a.startsWith('--backends='))?.slice('--backends='.length);
  await runProjectionBenchmarks({
    quick: args.includes('--quick'),
    ...(only ? { backends: only.split(',') as Backend[] } : {}),
  });
}
