import { randomUUID } from 'node:crypto';
import { openStore } from '../../src/open-store.js';
import { createProjectionRegistry } from '../../src/projections/index.js';
import { startJsonWorker } from './json-worker.js';
import { cleanRebuild, ledgerEvent, ledgerProjection, readModel } from './read-model.js';

export interface ProjectionKillOptions {
  url: string;
  events: number;
  /** The runner is killed once it reports at least this many processed events. */
  killAtProcessed: number;
  batchSize: number;
  leaseTtlMs: number;
  /** The runner pauses ~1 ms every this many events (0: never), so fast backends can be caught mid-run. */
  pauseEvery: number;
}

export interface ProjectionKillResult {
  events: number;
  /** Events applied according to the stored checkpoint right after the kill. */
  checkpointAtKill: number;
  /** Smallest processed count the second runner ever reported (≥ checkpointAtKill when it resumed). */
  resumedFrom: number;
  finalProcessed: number;
  /** The resumed read model equals a clean rebuild of the same events. */
  equalsCleanRebuild: boolean;
  /** Time from starting the second runner until it was caught up. */
  recoveryMs: number;
}

/**
 * A projection runner process is SIGKILLed in the middle of catching up; a second runner process
 * resumes from the stored checkpoint; the final read model is compared with a clean rebuild.
 */
export async function runProjectionKillScenario(
  options: ProjectionKillOptions,
): Promise<ProjectionKillResult> {
  const namespace = `pk${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const store = await openStore(options.url, { namespace });
  const workerArgs = [
    options.url,
    namespace,
    String(options.leaseTtlMs),
    String(options.batchSize),
    String(options.pauseEvery),
  ];
  const first = startJsonWorker('projection-runner', workerArgs);
  let second: ReturnType<typeof startJsonWorker> | undefined;
  try {
    for (let n = 0; n < options.events; n += 50) {
      const events = Array.from({ length: Math.min(50, options.events - n) }, (_, i) => ledgerEvent(n + i));
      await store.append(`ledger-${(n / 50) % 4}`, events);
    }
    await first.waitFor((m) => Number(m.processed) >= options.killAtProcessed);
    await first.kill();
    const observer = createProjectionRegistry({ store, projections: [ledgerProjection()] });
    const checkpointAtKill = (await observer.status('ledger')).processed;

    const startedAt = Date.now();
    second = startJsonWorker('projection-runner', workerArgs);
    await second.waitFor(
      (m) => m.leaseHeld === true && Number(m.processed) === options.events && m.lagEvents === 0,
      60_000,
    );
    const recoveryMs = Date.now() - startedAt;
    await second.kill();
    const resumedFrom = Math.min(...second.messages.map((m) => Number(m.processed)));
    const resumed = await readModel(observer, 'ledger');
    const clean = await cleanRebuild(store, ledgerProjection());
    return {
      events: options.events,
      checkpointAtKill,
      resumedFrom,
      finalProcessed: (await observer.status('ledger')).processed,
      equalsCleanRebuild: JSON.stringify(resumed) === JSON.stringify(clean),
      recoveryMs,
    };
  } finally {
    await first.kill();
    await second?.kill();
    await store.close();
  }
}
