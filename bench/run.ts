import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { InvalidInputError } from '../src/index.js';
import {
  allBackends,
  type BackendName,
  type BackendResult,
  type BenchmarkOptions,
  type MachineInfo,
  type SuiteContext,
  type WorkloadResult,
} from './bench-types.js';
import { describeWorkload } from './format.js';
import { writeReport } from './report.js';

export type { BackendName, BackendResult, BenchmarkOptions, WorkloadResult } from './bench-types.js';

const benchDir = dirname(fileURLToPath(import.meta.url));

/** What one backend suite returns. */
export interface SuiteOutcome {
  workloads: WorkloadResult[];
  settings: Record<string, string | number | boolean>;
  notes?: string[];
}

type Suite = (ctx: SuiteContext) => Promise<SuiteOutcome>;

/** Suites are imported on demand so a backend that is missing or broken only skips itself. */
const suites: Record<BackendName, () => Promise<Suite>> = {
  memory: async () => (await import('./backends/memory-suite.js')).runMemorySuite,
  sqlite: async () => (await import('./backends/sqlite-suite.js')).runSqliteSuite,
  postgres: async () => (await import('./backends/postgres-suite.js')).runPostgresSuite,
  nats: async () => (await import('./backends/nats-suite.js')).runNatsSuite,
};

/** The outcome of `runBenchmarks`: results written, and backends that could not be measured. */
export interface BenchmarkRun {
  results: BackendResult[];
  skipped: { backend: BackendName; reason: string }[];
  /** Files written (results and report). */
  written: string[];
  /** Other benchmark modules (projections, server load) that failed, with the reason. */
  extrasFailed: string[];
}

/** Two decimals are more than the figures' precision; longer fractions only add noise to diffs. */
function roundNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 100) / 100 : value;
}

/** Description of the machine a run happens on, stored with every result file. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    loadAverage: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    node: process.version,
  };
}

/**
 * Runs the benchmark suites of the selected backends one after the other (never in parallel, so
 * they do not disturb each other), writes `bench/results/<backend>.json` for each backend
 * measured and regenerates the markdown report from every result file present. A backend whose
 * module or server is unavailable is skipped with its reason; a failing workload aborts only its
 * backend. Every database object the suites create is removed before they return.
 */
export async function runBenchmarks(options: BenchmarkOptions = {}): Promise<BenchmarkRun> {
  const quick = options.quick ?? false;
  const durationMs = options.durationMs ?? (quick ? 150 : 2_500);
  const log = options.log ?? ((line: string) => console.log(line));
  const ctx: SuiteContext = {
    quick,
    durationMs,
    warmupMs: Math.max(20, Math.round(durationMs / 5)),
    longStreamLength: quick ? 1_000 : 100_000,
    postgresUrl:
      options.postgresUrl ??
      process.env.ORDO_BENCH_POSTGRES_URL ??
      process.env.ORDO_TEST_POSTGRES_URL ??
      'postgres://postgres@127.0.0.1:5432/test',
    natsUrl:
      options.natsUrl ??
      process.env.ORDO_BENCH_NATS_URL ??
      process.env.ORDO_TEST_NATS_URL ??
      'nats://127.0.0.1:4222',
    runId: `b${Date.now().toString(36)}${process.pid.toString(36)}`,
    log,
  };
  if (!Number.isFinite(durationMs) || durationMs <= 0) {
    throw new InvalidInputError(
      'durationMs',
      `must be a positive number of milliseconds, got ${String(options.durationMs)}`,
    );
  }
  const backends = options.backends ?? allBackends;
  for (const backend of backends) {
    if (!Object.hasOwn(suites, backend)) {
      throw new InvalidInputError(
        'backends',
        `unknown backend ${JSON.stringify(backend)}; use ${allBackends.join(', ')}`,
      );
    }
  }
  const resultsDir = resolve(options.resultsDir ?? join(benchDir, 'results'));
  const run: BenchmarkRun = { results: [], skipped: [], written: [], extrasFailed: [] };
  await mkdir(resultsDir, { recursive: true });

  for (const backend of backends) {
    log(`\n== ${backend} ==`);
    const machine = machineInfo();
    let outcome: SuiteOutcome;
    try {
      const suite = await suites[backend]();
      outcome = await suite({ ...ctx, log: (line) => log(`  ${line}`) });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log(`SKIPPED ${backend}: ${reason}`);
      run.skipped.push({ backend, reason });
      continue;
    }
    machine.loadAverageAfter = Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
    const targets = outcome.workloads.flatMap((w) => w.targets);
    const result: BackendResult = {
      backend,
      date: new Date().toISOString(),
      quick,
      machine,
      settings: {
        durationMs,
        warmupMs: ctx.warmupMs,
        longStreamLength: ctx.longStreamLength,
        ...outcome.settings,
      },
      workloads: outcome.workloads,
      summary: { targets: targets.length, passed: targets.filter((t) => t.pass).length },
      notes: outcome.notes ?? [],
    };
    for (const w of result.workloads) log(describeWorkload(w));
    log(`${backend}: ${result.summary.passed}/${result.summary.targets} targets met`);
    const file = join(resultsDir, `${backend}.json`);
    await writeFile(file, `${JSON.stringify(result, roundNumbers, 2)}\n`);
    run.written.push(file);
    run.results.push(result);
  }

  if (options.extras ?? true) run.extrasFailed = await runExtras(ctx, backends, resultsDir);

  if (options.reportPath !== false) {
    const reportPath = resolve(options.reportPath ?? join(benchDir, '..', 'docs', 'benchmarks.md'));
    await writeReport(resultsDir, reportPath);
    run.written.push(reportPath);
    log(`\nreport written to ${reportPath}`);
  }
  return run;
}

/**
 * Other benchmark modules of `bench/` (projections, server load) are owned separately; when one
 * exists and exports its entry function, it runs after the store suites with the same `quick`,
 * backends, servers and results directory. A failure there is logged and returned as skipped.
 */
async function runExtras(
  ctx: SuiteContext,
  backends: readonly BackendName[],
  resultsDir: string,
): Promise<string[]> {
  const extras: { name: string; entry: string; options: Record<string, unknown> }[] = [
    {
      name: 'projections',
      entry: 'runProjectionBenchmarks',
      options: {
        quick: ctx.quick,
        backends,
        postgresUrl: ctx.postgresUrl,
        natsUrl: ctx.natsUrl,
        out: join(resultsDir, 'projections.json'),
      },
    },
    {
      name: 'server-load',
      entry: 'runServerLoad',
      options: { quick: ctx.quick, resultsPath: join(resultsDir, 'server.json') },
    },
  ];
  const failed: string[] = [];
  for (const extra of extras) {
    const path = join(benchDir, `${extra.name}.ts`);
    if (!existsSync(path)) continue;
    ctx.log(`\n== ${extra.name} ==`);
    try {
      const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
      const run = module[extra.entry];
      if (typeof run !== 'function') throw new Error(`${extra.name}.ts does not export ${extra.entry}()`);
      await (run as (options: Record<string, unknown>) => Promise<unknown>)({
        ...extra.options,
        log: (line: string) => ctx.log(`  ${line}`),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      ctx.log(`FAILED ${extra.name}: ${reason}`);
      failed.push(`${extra.name}: ${reason}`);
    }
  }
  return failed;
}

function parseBackends(value: string): BackendName[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(allBackends as readonly string[]).includes(name)) {
      throw new InvalidInputError(
        'backend',
        `unknown backend ${JSON.stringify(name)}; use ${allBackends.join(', ')}`,
      );
    }
  }
  return names as BackendName[];
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('bench')
    .description('Measure Ordo event store backends against their raw database ceilings and targets.')
    .option('--backend <list>', `comma-separated backends (${allBackends.join(',')})`, allBackends.join(','))
    .option('--quick', 'small sizes and short windows (smoke run; figures not meaningful)', false)
    .option('--duration <ms>', 'timed window of each workload in milliseconds')
    .option('--results <dir>', 'directory of the JSON results', join(benchDir, 'results'))
    .option('--no-report', 'do not regenerate docs/benchmarks.md')
    .option('--no-extras', 'do not run the projections and server-load benchmarks')
    .option('--strict', 'exit with status 1 when a target is missed or a backend is skipped', false)
    .parse(argv);
  const opts = program.opts<{
    backend: string;
    quick: boolean;
    duration?: string;
    results: string;
    report: boolean;
    extras: boolean;
    strict: boolean;
  }>();
  const run = await runBenchmarks({
    backends: parseBackends(opts.backend),
    quick: opts.quick,
    ...(opts.duration ? { durationMs: Number(opts.duration) } : {}),
    resultsDir: opts.results,
    ...(opts.report ? {} : { reportPath: false as const }),
    extras: opts.extras,
  });
  const missed = run.results.some((r) => r.summary.passed < r.summary.targets);
  if (opts.strict && (missed || run.skipped.length > 0 || run.extrasFailed.length > 0)) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv).catch((error: unknown) => {
    // Bad options get their message only; anything else keeps its stack for diagnosis.
    console.error(error instanceof InvalidInputError ? `bench: ${error.message}` : error);
    process.exitCode = 1;
  });
}
