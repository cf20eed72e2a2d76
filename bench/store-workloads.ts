import { comparePositions, type EventStore, isVersionConflict, type NewEvent, START } from '../src/index.js';
import type { SuiteContext, WorkloadResult } from './bench-types.js';
import {
  cpuShare,
  type LatencySummary,
  type Measurement,
  measureLatencies,
  perSecond,
  type Runner,
  runInterleaved,
  runTimed,
} from './measure.js';

/**
 * The event every workload writes (about 150 bytes of JSON), so ceilings and comparisons store
 * rows of the same shape and size as the event store does.
 */
export function benchEvent(i: number): NewEvent {
  return {
    type: 'ItemAdded',
    data: {
      sku: `SKU-${String(i % 100_000).padStart(6, '0')}`,
      quantity: (i % 7) + 1,
      price: 1999,
      note: 'benchmark line item',
    },
    metadata: { correlationId: 'bench' },
  };
}

/** `count` consecutive bench events starting at `start`. */
export function benchEvents(count: number, start = 0): NewEvent[] {
  return Array.from({ length: count }, (_, k) => benchEvent(start + k));
}

/** Shape of one append workload: events per append and concurrent writers (each on its own stream). */
export interface AppendShape {
  id: string;
  description: string;
  batch: number;
  concurrency: number;
}

/** The append workloads every backend runs; backends add their own (e.g. 64 in flight). */
export const standardAppendShapes: AppendShape[] = [
  { id: 'append-1-seq', description: '1 event per append, 1 writer', batch: 1, concurrency: 1 },
  { id: 'append-10-seq', description: '10 events per append, 1 writer', batch: 10, concurrency: 1 },
  {
    id: 'append-1-c16',
    description: '1 event per append, 16 writers on distinct streams',
    batch: 1,
    concurrency: 16,
  },
  {
    id: 'append-10-c16',
    description: '10 events per append, 16 writers on distinct streams',
    batch: 10,
    concurrency: 16,
  },
];

/** Throughput unit of an append workload: appends for single events, events for batches. */
export function appendUnit(batch: number): 'appends/s' | 'events/s' {
  return batch === 1 ? 'appends/s' : 'events/s';
}

/** A reference workload measured beside ours: a raw database ceiling or another event store. */
export interface Reference {
  kind: 'ceiling' | 'comparison';
  label: string;
  runner: Runner;
}

/**
 * Our append workload with exact `expectedVersion` (each writer owns its stream and knows its
 * version, the normal optimistic-concurrency path).
 */
export function appendRunner(store: EventStore, ctx: SuiteContext, shape: AppendShape): Runner {
  const versions = new Array<number>(shape.concurrency).fill(0);
  const events = benchEvents(shape.batch);
  const op = async (worker: number): Promise<number> => {
    const result = await store.append(`${ctx.runId}-${shape.id}-w${worker}`, events, {
      expectedVersion: versions[worker]!,
    });
    versions[worker] = result.lastVersion;
    return shape.batch;
  };
  return { run: (durationMs) => runTimed(durationMs, shape.concurrency, op) };
}

/** Figure of a measurement in the unit of an append workload of `batch` events. */
export function appendFigure(m: Measurement, batch: number): number {
  return perSecond(appendUnit(batch) === 'appends/s' ? m.operations : m.events, m.durationMs);
}

/**
 * A timed append workload, interleaved round by round with its references (raw ceiling, other
 * event store) so that their ratio is fair on a busy machine. References are closed afterwards.
 */
export async function measureAppends(
  store: EventStore,
  ctx: SuiteContext,
  shape: AppendShape,
  references: Reference[] = [],
): Promise<WorkloadResult> {
  let measured: Measurement[];
  try {
    measured = await runInterleaved(
      [appendRunner(store, ctx, shape), ...references.map((r) => r.runner)],
      ctx.durationMs,
      ctx.warmupMs,
      ctx.quick ? 1 : 3,
    );
  } finally {
    for (const reference of references) await reference.runner.close?.();
  }
  const m = measured[0]!;
  const workload: WorkloadResult = {
    id: shape.id,
    description: shape.description,
    unit: appendUnit(shape.batch),
    value: appendFigure(m, shape.batch),
    operations: m.operations,
    events: m.events,
    durationMs: m.durationMs,
    concurrency: shape.concurrency,
    targets: [],
    details: { eventsPerSecond: perSecond(m.events, m.durationMs), clientCpuShare: cpuShare(m) },
  };
  references.forEach((reference, i) => {
    const value = appendFigure(measured[i + 1]!, shape.batch);
    const figure = { label: reference.label, value, ratio: value > 0 ? workload.value / value : 0 };
    if (reference.kind === 'ceiling') workload.ceiling = figure;
    else workload.comparison = figure;
  });
  return workload;
}

/**
 * `concurrency` writers append single events to one stream with the version they last saw; a
 * conflict refreshes the version from the error (no extra read) and the writer tries again.
 * Reports successful appends per second and the conflicts, and checks that the stream holds
 * exactly one event per success (no lost or doubled writes).
 */
export async function measureHotStream(
  store: EventStore,
  ctx: SuiteContext,
  concurrency = 16,
): Promise<WorkloadResult> {
  const streamId = `${ctx.runId}-hot`;
  let conflicts = 0;
  const known = new Array<number>(concurrency).fill(0);
  const event = [benchEvent(0)];
  const op = async (worker: number): Promise<number> => {
    try {
      const result = await store.append(streamId, event, { expectedVersion: known[worker]! });
      known[worker] = result.lastVersion;
      return 1;
    } catch (error) {
      if (!isVersionConflict(error)) throw error;
      conflicts++;
      known[worker] = error.currentVersion;
      return 0;
    }
  };
  await runTimed(ctx.warmupMs, concurrency, op);
  const before = await store.streamVersion(streamId);
  conflicts = 0;
  const m = await runTimed(ctx.durationMs, concurrency, op);
  const after = await store.streamVersion(streamId);
  const consistent = after - before === m.events;
  return {
    id: 'hot-stream-c16',
    description: `${concurrency} writers on one stream (successes/s; conflicts retried with the reported version)`,
    unit: 'appends/s',
    value: perSecond(m.events, m.durationMs),
    operations: m.operations,
    events: m.events,
    durationMs: m.durationMs,
    concurrency,
    targets: [{ description: 'stream grew by exactly the successful appends', pass: consistent }],
    details: {
      conflicts,
      conflictsPerSecond: perSecond(conflicts, m.durationMs),
      conflictShare: m.operations > 0 ? conflicts / m.operations : 0,
      streamGrowth: after - before,
      clientCpuShare: cpuShare(m),
    },
  };
}

/** Longest `streamVersion` median over the short stream's that still counts as flat (noise allowance). */
export const flatRatioLimit = 2;

/**
 * Median `streamVersion` latency on a 10-event stream and on a long one (100,000 events by
 * default), appended in batches of `buildBatch` and a final append of 10. The contract says constant time, so the long
 * figure must stay within {@link flatRatioLimit} times the short one.
 */
export async function measureStreamVersion(
  store: EventStore,
  ctx: SuiteContext,
  buildBatch = 1_000,
): Promise<WorkloadResult[]> {
  const shortId = `${ctx.runId}-short`;
  const longId = `${ctx.runId}-long`;
  await store.append(shortId, benchEvents(10), { expectedVersion: 'no_stream' });
  // The last append of the long stream has the same 10 events as the short stream's only one, so
  // a backend that reads the newest commit (NATS) transfers the same bytes for both streams.
  let version = 0;
  while (version < ctx.longStreamLength) {
    const remaining = ctx.longStreamLength - version;
    const size = remaining <= 10 ? remaining : Math.min(buildBatch, remaining - 10);
    version = (await store.append(longId, benchEvents(size, version), { expectedVersion: version }))
      .lastVersion;
  }
  const lengths = { short: await store.streamVersion(shortId), long: await store.streamVersion(longId) };
  // Calls alternate between the two streams, so both share the window and its conditions.
  const window = Math.max(ctx.durationMs, 100);
  const ops = [() => store.streamVersion(shortId), () => store.streamVersion(longId)];
  await measureLatencies(ctx.warmupMs, ops);
  const [short, long] = (await measureLatencies(window, ops)) as [LatencySummary, LatencySummary];
  const ratio = short.p50Us > 0 ? long.p50Us / short.p50Us : 0;
  const correct = lengths.short === 10 && lengths.long === ctx.longStreamLength;
  const make = (id: string, length: number, s: typeof short): WorkloadResult => ({
    id,
    description: `streamVersion on a ${length.toLocaleString('en-US')}-event stream (median latency)`,
    unit: 'µs',
    value: s.p50Us,
    operations: s.calls,
    events: 0,
    durationMs: window,
    concurrency: 1,
    targets: [],
    details: { streamLength: length, meanUs: s.meanUs, p99Us: s.p99Us },
  });
  const shortResult = make('stream-version-10', 10, short);
  const longResult = make('stream-version-long', ctx.longStreamLength, long);
  longResult.details.ratioToShort = ratio;
  longResult.targets.push(
    {
      description: `flat: median ≤ ${flatRatioLimit}× the 10-event stream's`,
      pass: ratio > 0 && ratio <= flatRatioLimit,
    },
    { description: 'returns the exact stream lengths', pass: correct },
  );
  return [shortResult, longResult];
}

/**
 * Reads the global log from START in pages of `pageSize` until `eventsPerPass` events (or the end)
 * and repeats passes for the timed window. Positions of every pass are checked to be strictly
 * increasing after the clock stops, so the check does not slow the figure.
 */
export async function measureReadAll(
  store: EventStore,
  ctx: SuiteContext,
  pageSize = 10_000,
): Promise<WorkloadResult> {
  const eventsPerPass = ctx.quick ? 5_000 : 200_000;
  let ordered = true;
  let lastPass: string[] = [];
  const pass = async (): Promise<number> => {
    const positions: string[] = [];
    let after = START;
    while (positions.length < eventsPerPass) {
      const page = await store.readAll({
        after,
        limit: Math.min(pageSize, eventsPerPass - positions.length),
      });
      for (const event of page) positions.push(event.position);
      if (page.length === 0) break;
      after = page[page.length - 1]!.position;
      if (page.length < pageSize) break;
    }
    lastPass = positions;
    return positions.length;
  };
  await pass();
  const m = await runTimed(ctx.durationMs, 1, pass);
  let disorder = '';
  for (let i = 1; i < lastPass.length; i++) {
    if (comparePositions(lastPass[i - 1]!, lastPass[i]!) >= 0) {
      ordered = false;
      disorder = `${lastPass[i - 1]} then ${lastPass[i]} at index ${i}`;
      break;
    }
  }
  return {
    id: 'read-all',
    description: `readAll from START in pages of ${pageSize.toLocaleString('en-US')} (global order)`,
    unit: 'events/s',
    value: perSecond(m.events, m.durationMs),
    operations: m.operations,
    events: m.events,
    durationMs: m.durationMs,
    concurrency: 1,
    targets: [{ description: 'positions strictly increasing', pass: ordered && lastPass.length > 0 }],
    details: {
      eventsPerPass: lastPass.length,
      passes: m.operations,
      clientCpuShare: cpuShare(m),
      ...(ordered ? {} : { disorder }),
    },
  };
}
