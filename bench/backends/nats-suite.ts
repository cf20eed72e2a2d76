import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { openNatsStore } from '../../src/backends/nats/index.js';
import { encodeCommit } from '../../src/backends/nats/nats-commit.js';
import type { PreparedEvent } from '../../src/core/driver.js';
import type { SuiteContext, WorkloadResult } from '../bench-types.js';
import { runTimed } from '../measure.js';
import type { SuiteOutcome } from '../run.js';
import {
  type AppendShape,
  benchEvents,
  measureAppends,
  measureHotStream,
  measureReadAll,
  measureStreamVersion,
  type Reference,
  standardAppendShapes,
} from '../store-workloads.js';
import { byId, requireAtLeast } from '../targets.js';

const CEILING_LABEL = 'plain js.publish of the same commit payload, no expectations (same stream settings)';

/** NATS adds the pipelined workloads its targets are stated for. */
const natsAppendShapes: AppendShape[] = [
  ...standardAppendShapes,
  {
    id: 'append-1-c64',
    description: '1 event per append, 64 appends in flight (distinct streams)',
    batch: 1,
    concurrency: 64,
  },
  {
    id: 'append-10-c64',
    description: 'commits of 10 events, 64 in flight (distinct streams)',
    batch: 10,
    concurrency: 64,
  },
];

/** `host:port` of a `nats://` URL. */
function serverOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '4222'}`;
}

/**
 * Raw ceiling: the same commit payload (the backend's own encoding of the same events) published
 * with `js.publish` to a scratch stream with the same storage settings, without expected-sequence
 * headers, awaiting each acknowledgement, with as many publishes in flight as writers.
 */
function rawCeiling(nc: NatsConnection, subjectPrefix: string, shape: AppendShape): Reference {
  const js = jetstream(nc);
  const events: PreparedEvent[] = benchEvents(shape.batch).map((e) => ({
    id: randomUUID(),
    idGiven: false,
    type: e.type,
    data: JSON.stringify(e.data),
    metadata: JSON.stringify(e.metadata ?? {}),
    tags: [],
  }));
  const op = async (worker: number): Promise<number> => {
    const subject = `${subjectPrefix}.${shape.id}.w${worker}`;
    await js.publish(subject, encodeCommit(subject, Date.now(), events));
    return shape.batch;
  };
  return {
    kind: 'ceiling',
    label: CEILING_LABEL,
    runner: { run: (durationMs) => runTimed(durationMs, shape.concurrency, op) },
  };
}

/**
 * NATS JetStream: our streams use a prefix unique to the run and are deleted afterwards, as is
 * the raw-ceiling stream. Targets: ≥ 20,000 appends/s with 64 in flight, ≥ 35,000 events/s for
 * commits of 10 (64 in flight), reads ≥ 100,000 events/s, `streamVersion` flat.
 */
export async function runNatsSuite(ctx: SuiteContext): Promise<SuiteOutcome> {
  const servers = serverOf(ctx.natsUrl);
  const nc = await connect({ servers, name: 'ordo-bench' });
  const jsm = await jetstreamManager(nc);
  const rawStream = `${ctx.runId}-raw`;
  try {
    await jsm.streams.add({
      name: rawStream,
      subjects: [`${rawStream}.>`],
      storage: StorageType.File,
      num_replicas: 1,
    });
    const store = await openNatsStore({ servers, stream: ctx.runId });
    const workloads: WorkloadResult[] = [];
    try {
      for (const shape of natsAppendShapes) {
        workloads.push(await measureAppends(store, ctx, shape, [rawCeiling(nc, rawStream, shape)]));
        ctx.log(`${shape.id} done`);
      }
      workloads.push(await measureHotStream(store, ctx));
      workloads.push(...(await measureStreamVersion(store, ctx, 500)));
      workloads.push(await measureReadAll(store, ctx));
    } finally {
      await store.close();
    }
    requireAtLeast(byId(workloads, 'append-1-c64'), 20_000);
    requireAtLeast(byId(workloads, 'append-10-c64'), 35_000);
    requireAtLeast(byId(workloads, 'read-all'), 100_000);
    return {
      workloads,
      settings: { server: nc.info?.version ?? 'unknown', storage: 'file', replicas: 1 },
      notes: [
        'The long stream is built from commits of 500 events (one NATS message per commit, within max_payload).',
      ],
    };
  } finally {
    for await (const name of jsm.streams.names()) {
      if (name.includes(ctx.runId)) await jsm.streams.delete(name).catch(() => false);
    }
    await nc.drain();
  }
}
