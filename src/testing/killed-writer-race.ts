import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '../core/types.js';
import { openStore } from '../open-store.js';
import { spawnTestWorker } from './spawn-test-worker.js';

/** How `runKilledWriterRace` kills its writers. */
export interface KilledWriterRaceConfig {
  /** A store URL every writer process opens. */
  url: string;
  /** Writer processes running at the same time. */
  writers: number;
  /** Events per append (every append is one batch that must be stored completely or not at all). */
  batchSize: number;
  /** Each writer gets SIGKILL after a random delay of up to this many milliseconds once it is ready. */
  maxDelayMs: number;
  /** Streams the writers share (default 3), so their appends interleave. */
  streams?: number;
  namespace?: string;
}

export interface KilledWriterRaceResult {
  namespace: string;
  /** Appends the writers saw acknowledged before they died. */
  acknowledged: number;
  storedBatches: number;
  storedEvents: number;
  /** Broken invariants; empty when every stored batch is complete and nothing acknowledged is lost. */
  violations: string[];
}

/**
 * Writers append multi-event batches to shared streams and are killed with SIGKILL at random
 * moments, most likely in the middle of an append. Afterwards the store must hold only complete
 * batches (all events, consecutive versions, in order), every acknowledged batch, contiguous
 * stream versions, and accept new appends on the same streams.
 */
export async function runKilledWriterRace(config: KilledWriterRaceConfig): Promise<KilledWriterRaceResult> {
  const namespace = config.namespace ?? `torn${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const streams = config.streams ?? 3;
  const acks = new Set<string>();
  const workers = Array.from({ length: config.writers }, (_, i) =>
    spawnTestWorker('killed-writer-worker', [
      config.url,
      namespace,
      String(i),
      String(config.batchSize),
      String(streams),
    ]),
  );
  try {
    await Promise.all(
      workers.map(async (w) => {
        await w.waitForLine((line) => line === 'ready');
        // Wait for the first acknowledged batch, so each writer is killed while it is busy writing.
        await w.waitForLine((line) => line.startsWith('ack '));
        await new Promise((resolve) => setTimeout(resolve, Math.random() * config.maxDelayMs));
        w.child.kill('SIGKILL');
        const { signal, code, stderr } = await w.exited;
        if (signal !== 'SIGKILL') throw new Error(`writer exited on its own (code ${code}): ${stderr}`);
        for (const line of w.lines) if (line.startsWith('ack ')) acks.add(line.slice(4));
      }),
    );
  } finally {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  }

  const store = await openStore(config.url, { namespace });
  try {
    const violations: string[] = [];
    const batches = new Map<string, RecordedEvent[]>();
    let storedEvents = 0;
    for (let s = 0; s < streams; s++) {
      const streamId = `torn-${s}`;
      const events = await store.readStream(streamId);
      storedEvents += events.length;
      const version = await store.streamVersion(streamId);
      if (version !== events.length)
        violations.push(`${streamId}: streamVersion ${version} but ${events.length} events`);
      events.forEach((event, i) => {
        if (event.version !== i + 1) violations.push(`${streamId}: event ${i} has version ${event.version}`);
        const { batchId } = event.data as { batchId: string };
        const batch = batches.get(batchId) ?? [];
        batch.push(event);
        batches.set(batchId, batch);
      });
      // The streams stay writable: a dead writer left no lock or half transaction behind.
      const after = await store.append(streamId, [{ type: 'AfterKill', data: {} }], {
        expectedVersion: version,
      });
      if (after.lastVersion !== version + 1)
        violations.push(`${streamId}: append after the kills got version ${after.lastVersion}`);
    }
    for (const [batchId, events] of batches) {
      const ok =
        events.length === config.batchSize &&
        events.every(
          (e, i) =>
            (e.data as { index: number }).index === i &&
            e.version === events[0]!.version + i &&
            e.streamId === events[0]!.streamId,
        );
      if (!ok)
        violations.push(`batch ${batchId} is torn: ${events.length} of ${config.batchSize} events stored`);
    }
    for (const batchId of acks)
      if (!batches.has(batchId)) violations.push(`acknowledged batch ${batchId} is missing`);
    return { namespace, acknowledged: acks.size, storedBatches: batches.size, storedEvents, violations };
  } finally {
    await store.close();
  }
}
