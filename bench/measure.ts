import { performance } from 'node:perf_hooks';

/** What a timed loop achieved. */
export interface Measurement {
  operations: number;
  events: number;
  durationMs: number;
  /** CPU time this process spent (user + system) during the window, in milliseconds. */
  cpuMs: number;
}

/**
 * Runs `concurrency` workers that call `op(worker)` back to back until `durationMs` has passed,
 * then waits for the calls in flight. `op` returns how many events it handled, so appends of 10
 * count 10 events per operation. A throwing `op` stops the measurement with that error: the
 * harness never hides failures behind a figure.
 */
export async function runTimed(
  durationMs: number,
  concurrency: number,
  op: (worker: number) => Promise<number>,
): Promise<Measurement> {
  let operations = 0;
  let events = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async (index: number): Promise<void> => {
    while (performance.now() < deadline) {
      // Read the shared counters only after the await: `events += await op()` would read `events`
      // before the await and lose the other workers' increments.
      const handled = await op(index);
      events += handled;
      operations++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  const used = process.cpuUsage(cpu);
  return {
    operations,
    events,
    durationMs: performance.now() - started,
    cpuMs: (used.user + used.system) / 1000,
  };
}

/** A prepared workload that can be run for several windows in a row (state such as versions persists). */
export interface Runner {
  run(durationMs: number): Promise<Measurement>;
  /** Releases what the runner set up (scratch tables, connections). */
  close?(): Promise<void>;
}

/** Sum of several measurements of the same workload. */
export function addMeasurements(a: Measurement, b: Measurement): Measurement {
  return {
    operations: a.operations + b.operations,
    events: a.events + b.events,
    durationMs: a.durationMs + b.durationMs,
    cpuMs: a.cpuMs + b.cpuMs,
  };
}

/**
 * Runs `runners` in turn for `rounds` rounds of `durationMs / rounds` each (after one warm-up
 * window each) and returns their summed measurements. Interleaving keeps a ratio between two
 * runners fair on a machine whose load drifts during the run.
 */
export async function runInterleaved(
  runners: Runner[],
  durationMs: number,
  warmupMs: number,
  rounds: number,
): Promise<Measurement[]> {
  for (const runner of runners) await runner.run(warmupMs);
  const totals = runners.map((): Measurement => ({ operations: 0, events: 0, durationMs: 0, cpuMs: 0 }));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < runners.length; i++) {
      totals[i] = addMeasurements(totals[i]!, await runners[i]!.run(durationMs / rounds));
    }
  }
  return totals;
}

/**
 * Share of one core this process used during a measurement. Near 1 means the client side
 * (our code, the driver) is the limit; well below 1 means the process mostly waited on the
 * database or server.
 */
export function cpuShare(m: Measurement): number {
  return m.durationMs > 0 ? Math.round((m.cpuMs / m.durationMs) * 100) / 100 : 0;
}

/** Per-second rate of `count` over `durationMs`. */
export function perSecond(count: number, durationMs: number): number {
  return durationMs > 0 ? (count * 1000) / durationMs : 0;
}

/** Latency summary in microseconds. */
export interface LatencySummary {
  calls: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
}

function summarize(samples: number[]): LatencySummary {
  samples.sort((a, b) => a - b);
  const at = (q: number): number =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  const mean = samples.reduce((sum, s) => sum + s, 0) / Math.max(1, samples.length);
  return { calls: samples.length, meanUs: mean, p50Us: at(0.5), p99Us: at(0.99) };
}

/**
 * Calls each of `ops` in turn, round after round, for `durationMs` (at most `maxRounds` rounds)
 * and summarizes each one's per-call latency. Alternating call by call gives every operation the
 * same machine conditions, so their medians can be compared on a busy machine. The median is the
 * headline: it is the figure least disturbed by load.
 */
export async function measureLatencies(
  durationMs: number,
  ops: (() => Promise<unknown>)[],
  maxRounds = 100_000,
): Promise<LatencySummary[]> {
  const samples = ops.map((): number[] => []);
  const deadline = performance.now() + durationMs;
  for (let round = 0; round < maxRounds && (round === 0 || performance.now() < deadline); round++) {
    for (let i = 0; i < ops.length; i++) {
      const start = performance.now();
      await ops[i]!();
      samples[i]!.push((performance.now() - start) * 1000);
    }
  }
  return samples.map(summarize);
}
