/** Backends the harness knows how to measure. */
export type BackendName = 'memory' | 'sqlite' | 'postgres' | 'nats';

/** Every backend, in the order a default run measures them. */
export const allBackends: readonly BackendName[] = ['memory', 'sqlite', 'postgres', 'nats'];

/** A target a workload is checked against; `pass` is decided by the harness at measurement time. */
export interface TargetResult {
  /** Human-readable threshold, e.g. `≥ 30,000 events/s` or `≥ 90% of raw ceiling`. */
  description: string;
  pass: boolean;
}

/** A reference figure measured in the same run (raw database ceiling or another event store). */
export interface ReferenceFigure {
  /** What was measured, e.g. `raw INSERT (better-sqlite3, same pragmas)` or `Emmett`. */
  label: string;
  value: number;
  /** Our figure divided by the reference figure (higher is better for throughput). */
  ratio: number;
}

/** One measured workload. Throughput figures are per second; latencies are microseconds. */
export interface WorkloadResult {
  /** Stable identifier, e.g. `append-1-seq`. */
  id: string;
  description: string;
  unit: 'appends/s' | 'events/s' | 'µs';
  /** The headline figure in `unit`. */
  value: number;
  /** Operations (appends, reads or calls) completed in the timed window. */
  operations: number;
  events: number;
  durationMs: number;
  /** Writers or in-flight requests. */
  concurrency: number;
  ceiling?: ReferenceFigure;
  comparison?: ReferenceFigure;
  targets: TargetResult[];
  /** Extra figures such as conflicts or per-call percentiles. */
  details: Record<string, number | string | boolean>;
}

/** Where and when a run happened, so figures from different machines are not compared blindly. */
export interface MachineInfo {
  platform: string;
  arch: string;
  cpuModel: string;
  cpus: number;
  totalMemoryGiB: number;
  /** 1-minute load average when the run started (a busy machine lowers every figure). */
  loadAverage: number;
  /** 1-minute load average when the backend's suite finished. */
  loadAverageAfter?: number;
  node: string;
}

/** The content of `bench/results/<backend>.json`. */
export interface BackendResult {
  backend: BackendName;
  date: string;
  quick: boolean;
  machine: MachineInfo;
  /** Settings that shape the figures (durations, pool sizes, pragmas). */
  settings: Record<string, number | string | boolean>;
  workloads: WorkloadResult[];
  /** Number of targets met and checked. */
  summary: { targets: number; passed: number };
  /** Observations recorded by the harness (e.g. a workload that could not run). */
  notes: string[];
}

/** Options of `runBenchmarks`. */
export interface BenchmarkOptions {
  /** Backends to measure; default every backend. Unavailable backends are reported and skipped. */
  backends?: readonly BackendName[];
  /** Small sizes and short windows: a smoke run, figures are not meaningful. */
  quick?: boolean;
  /** Timed window of each workload in milliseconds (default 2,500; quick 150). */
  durationMs?: number;
  /** Directory of the JSON results (default `bench/results`). */
  resultsDir?: string;
  /** Markdown report to regenerate from the results directory; `false` skips it (default `docs/benchmarks.md`). */
  reportPath?: string | false;
  /** Also run the other benchmark modules of `bench/` (projections, server load) when present. Default true. */
  extras?: boolean;
  postgresUrl?: string;
  natsUrl?: string;
  /** Progress lines; default `console.log`. */
  log?: (line: string) => void;
}

/** Resolved options handed to every backend suite. */
export interface SuiteContext {
  quick: boolean;
  durationMs: number;
  warmupMs: number;
  /** Length of the long stream for the flat-`streamVersion` check (100,000; quick 1,000). */
  longStreamLength: number;
  postgresUrl: string;
  natsUrl: string;
  /** Unique per run, so names never collide with a concurrent run or a colleague's data. */
  runId: string;
  log: (line: string) => void;
}
