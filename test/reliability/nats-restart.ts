import { randomUUID } from 'node:crypto';
import { openNatsStore } from '../../src/backends/nats/index.js';
import { StoreUnavailableError } from '../../src/core/errors.js';
import type { EventStore } from '../../src/core/types.js';
import { createProjectionRegistry } from '../../src/projections/index.js';
import { freePort, PrivateNatsServer } from '../nats/nats-private-server.js';
import { auditLog, type LogAudit, startFaultWriters, startResubscriber } from './fault-load.js';
import { cleanRebuild, ledgerProjection, readModel, until } from './read-model.js';

export interface NatsRestartOptions {
  writers: number;
  batches: number;
  batchSize: number;
  /** The server is killed each time this many more batches were acknowledged. */
  restartEvery: number;
  /** How long the server stays down each time. */
  downMs: number;
}

export interface NatsRestartResult extends LogAudit {
  restarts: number;
  acknowledgedBatches: number;
  acknowledgedEvents: number;
  appendUnavailableErrors: number;
  subscriptionUnavailableErrors: number;
  /** Reads made while the server was down that failed with StoreUnavailableError / in total. */
  readsWhileDownTyped: number;
  readsWhileDown: number;
  projectionErrorCodes: string[];
  projectionErrorMessages: string[];
  unexpected: string[];
  subscriptionExactlyOnceInOrder: boolean;
  projectionEqualsCleanRebuild: boolean;
  /** Longest time from the server listening again to the next acknowledged append. */
  maxRecoveryMs: number;
}

/**
 * A private nats-server (own port and storage directory, never the shared one) is SIGKILLed and
 * restarted on the same port and directory while writers append, a projection runs and a
 * subscriber follows the log.
 */
export async function runNatsRestartScenario(options: NatsRestartOptions): Promise<NatsRestartResult> {
  const server = new PrivateNatsServer(await freePort());
  await server.start();
  let store: EventStore | undefined;
  let sampling = true;
  let sampler: Promise<void> | undefined;
  let subscriber: ReturnType<typeof startResubscriber> | undefined;
  let registry: ReturnType<typeof createProjectionRegistry> | undefined;
  try {
    const root = await openNatsStore({
      servers: server.address,
      stream: 'relrestart',
      timeoutMs: 1_000,
      pollIntervalMs: 50,
    });
    store = root.withNamespace(`nr${randomUUID().replaceAll('-', '').slice(0, 12)}`);
    const s = store;
    const reg = createProjectionRegistry({
      store: s,
      projections: [ledgerProjection()],
      batchSize: 20,
      leaseTtlMs: 1_000,
      pollIntervalMs: 50,
    });
    registry = reg;
    const projectionErrors = new Map<string, string>();
    sampler = (async () => {
      while (sampling) {
        try {
          const error = (await reg.status('ledger')).lastError;
          if (error && !projectionErrors.has(error.code)) projectionErrors.set(error.code, error.message);
        } catch {
          // Status needs the server too; the runner's own errors are what is checked.
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await reg.start();
    subscriber = startResubscriber(s, 100);
    const { tally, done } = startFaultWriters({
      store: s,
      writers: options.writers,
      batches: options.batches,
      batchSize: options.batchSize,
      retryPauseMs: 50,
      giveUpAfterMs: 30_000,
    });
    let restarts = 0;
    let maxRecoveryMs = 0;
    let readsWhileDown = 0;
    let readsWhileDownTyped = 0;
    const total = options.writers * options.batches;
    for (let threshold = options.restartEvery; threshold < total; threshold += options.restartEvery) {
      await until(
        () => tally.acknowledgedBatches >= threshold || tally.unexpected.length > 0,
        `${threshold} batches`,
        30_000,
      );
      if (tally.unexpected.length > 0) break;
      await server.kill();
      const downUntil = Date.now() + options.downMs;
      while (Date.now() < downUntil) {
        readsWhileDown++;
        const error = await s.readStream('writer-0').then(
          () => undefined,
          (e: unknown) => e,
        );
        if (error instanceof StoreUnavailableError) readsWhileDownTyped++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await server.start();
      restarts++;
      const at = Date.now();
      const acked = tally.acknowledgedBatches;
      await until(
        () => tally.acknowledgedBatches > acked || tally.acknowledgedBatches === total,
        'an append after the restart',
        30_000,
      );
      maxRecoveryMs = Math.max(maxRecoveryMs, Date.now() - at);
    }
    await done;
    const { audit, log } = await auditLog(s, tally.acknowledged);
    await reg.waitForCatchUp({ timeoutMs: 30_000 });
    const live = await readModel(reg, 'ledger');
    const clean = await cleanRebuild(s, ledgerProjection());
    const sub = subscriber;
    await until(() => sub.tally.delivered.length >= log.length, 'the subscriber to catch up', 30_000);
    const delivered = sub.tally.delivered.map((e) => e.id);
    return {
      ...audit,
      restarts,
      acknowledgedBatches: tally.acknowledgedBatches,
      acknowledgedEvents: [...tally.acknowledged.values()].reduce((n, ids) => n + ids.length, 0),
      appendUnavailableErrors: tally.unavailableErrors,
      subscriptionUnavailableErrors: sub.tally.unavailableErrors,
      readsWhileDown,
      readsWhileDownTyped,
      projectionErrorCodes: [...projectionErrors.keys()],
      projectionErrorMessages: [...projectionErrors.values()],
      unexpected: [...tally.unexpected, ...sub.tally.unexpected].map((e) => String(e)),
      subscriptionExactlyOnceInOrder: JSON.stringify(delivered) === JSON.stringify(log.map((e) => e.id)),
      projectionEqualsCleanRebuild: JSON.stringify(live) === JSON.stringify(clean),
      maxRecoveryMs,
    };
  } finally {
    sampling = false;
    await sampler;
    await subscriber?.stop();
    await registry?.stop().catch(() => {});
    await store?.close().catch(() => {});
    await server.dispose();
  }
}
