import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Options of `runServerLoad`. */
export interface ServerLoadOptions {
  /** Short windows and few connections: a smoke run, figures not meaningful. */
  quick?: boolean;
  /**
   * Stores served, one after the other (default: a fresh SQLite file, the `ordo serve` default
   * backend, then `memory:` to separate HTTP overhead from storage cost).
   */
  stores?: string[];
  /** Seconds per workload (default 5; quick 1). */
  durationSec?: number;
  /** Concurrent HTTP connections (default 16; quick 4). */
  connections?: number;
  /** Result file (default `bench/results/server.json`). */
  resultsPath?: string;
  log?: (line: string) => void;
}

/** One measured HTTP workload. */
export interface ServerLoadWorkload {
  id: string;
  /** Store URL served (`sqlite` for the temporary file). */
  store: string;
  description: string;
  /** Successful (2xx) requests per second. */
  requestsPerSec: number;
  /** Events appended per second (append workloads). */
  eventsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  requests: number;
  non2xx: number;
  errors: number;
  connections: number;
  durationSec: number;
}

/** Content of `bench/results/server.json`. */
export interface ServerLoadResult {
  benchmark: 'server-load';
  date: string;
  quick: boolean;
  machine: { cpus: number; cpuModel: string; node: string; loadAverage: number };
  workloads: ServerLoadWorkload[];
}

interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p90: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
  duration: number;
}

type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '..');

/** Starts `ordo serve` from source on a free loopback port and resolves its URL. */
async function startServer(store: string): Promise<{ url: string; child: ChildProcess }> {
  const tsx = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
  const child = spawn(
    process.execPath,
    ['--import', tsx, join(root, 'src/cli/main.ts'), 'serve', '--port', '0', '--store', store],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  let out = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`ordo serve did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /Console: (http:\/\/\S+)\//.exec(out);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`ordo serve exited with ${code}: ${out}`)));
  });
  return { url, child };
}

/** Runs the three workloads against one `ordo serve` process over `store`. */
async function measureStore(
  autocannon: Autocannon,
  store: string,
  label: string,
  durationSec: number,
  connections: number,
  log: (line: string) => void,
): Promise<ServerLoadWorkload[]> {
  const { url, child } = await startServer(store);
  const run = `load-${Date.now().toString(36)}`;
  const workloads: ServerLoadWorkload[] = [];
  try {
    const measure = async (
      id: string,
      description: string,
      eventsPerRequest: number,
      request: Record<string, unknown>,
    ): Promise<void> => {
      const r = await autocannon({ url, connections, duration: durationSec, requests: [request] });
      const seconds = r.duration || durationSec;
      const ok = r['2xx'];
      const w: ServerLoadWorkload = {
        id,
        store: label,
        description,
        requestsPerSec: Math.round(ok / seconds),
        eventsPerSec: Math.round((ok * eventsPerRequest) / seconds),
        latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
        requests: r.requests.total,
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
        connections,
        durationSec: seconds,
      };
      workloads.push(w);
      log(
        `  ${id}: ${w.requestsPerSec} req/s, p99 ${w.latencyMs.p99} ms, non-2xx ${w.non2xx}, errors ${w.errors}`,
      );
    };
    const base = '/api/v1/ns/default';
    let n = 0;
    const appendRequest = (events: number) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req: Record<string, unknown>) => {
        n += 1;
        const body = JSON.stringify({
          events: Array.from({ length: events }, (_, i) => ({
            type: 'LoadTested',
            data: { n, i, pad: 'x'.repeat(64) },
          })),
          expectedVersion: 'any',
        });
        return { ...req, path: `${base}/streams/${run}-${n % 1000}`, body };
      },
    });
    await measure(
      'http-append-1',
      'POST one event per append (expectedVersion any, 1,000 streams)',
      1,
      appendRequest(1),
    );
    await measure('http-append-10', 'POST ten events per append', 10, appendRequest(10));
    await fetch(`${url}${base}/streams/${run}-read`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: Array.from({ length: 10 }, (_, i) => ({ type: 'Read', data: { i } })) }),
    });
    await measure('http-read-stream', 'GET a 10-event stream', 0, {
      method: 'GET',
      path: `${base}/streams/${run}-read`,
    });
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  return workloads;
}

/**
 * Load test of `ordo serve` on loopback with autocannon: single-event appends with
 * `expectedVersion: 'any'` on 1,000 rotating streams, batches of 10 events, and reads of a
 * 10-event stream. The server runs in its own process; every window is bounded in time.
 * Writes `bench/results/server.json` and returns the figures.
 */
export async function runServerLoad(options: ServerLoadOptions = {}): Promise<ServerLoadResult> {
  const quick = options.quick ?? false;
  const durationSec = options.durationSec ?? (quick ? 1 : 5);
  const connections = options.connections ?? (quick ? 4 : 16);
  const log = options.log ?? ((line: string) => console.log(line));
  const scratch = await mkdtemp(join(tmpdir(), 'ordo-server-load-'));
  const stores = options.stores ?? [`sqlite:${join(scratch, 'load.db')}`, 'memory:'];
  const { default: autocannon } = (await import('autocannon' as string)) as { default: Autocannon };
  const workloads: ServerLoadWorkload[] = [];
  try {
    for (const store of stores) {
      const label = store.startsWith(`sqlite:${scratch}`)
        ? 'sqlite (temporary file, synchronous=FULL)'
        : store;
      log(`store ${label}`);
      workloads.push(...(await measureStore(autocannon, store, label, durationSec, connections, log)));
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const result: ServerLoadResult = {
    benchmark: 'server-load',
    date: new Date().toISOString(),
    quick,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      node: process.version,
      loadAverage: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    },
    workloads,
  };
  const path = resolve(options.resultsPath ?? join(benchDir, 'results', 'server.json'));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
  log(`results written to ${path}`);
  return result;
}

// Runnable directly: tsx bench/server-load.ts [--quick] [--store url,url] [--duration s] [--connections n]
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const stores = value('--store');
  const duration = value('--duration');
  const connections = value('--connections');
  runServerLoad({
    quick: args.includes('--quick'),
    ...(stores ? { stores: stores.split(',') } : {}),
    ...(duration ? { durationSec: Number(duration) } : {}),
    ...(connections ? { connections: Number(connections) } : {}),
  }).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
