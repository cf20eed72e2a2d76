import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore } from '../../src/backends/postgres/index.js';
import type { EventStore } from '../../src/core/types.js';
import { createProjectionRegistry } from '../../src/projections/index.js';
import { auditLog, type LogAudit, startFaultWriters, startResubscriber } from './fault-load.js';
import { cleanRebuild, ledgerProjection, readModel, until } from './read-model.js';

export interface PostgresFaultOptions {
  connectionString: string;
  schema: string;
  writers: number;
  batches: number;
  batchSize: number;
  /** Terminate the store's server connections each time this many more batches were acknowledged. */
  terminateEvery: number;
}

export interface PostgresFaultResult extends LogAudit {
  acknowledgedBatches: number;
  acknowledgedEvents: number;
  terminations: number;
  terminatedBackends: number;
  appendUnavailableErrors: number;
  subscriptionUnavailableErrors: number;
  /** Error codes the projection reported in its status during the run (and one message per code). */
  projectionErrorCodes: string[];
  projectionErrorMessages: string[];
  unexpected: string[];
  /** Subscriber: every stored event exactly once, in log order. */
  subscriptionExactlyOnceInOrder: boolean;
  projectionEqualsCleanRebuild: boolean;
  /** Longest time from a termination to the next acknowledged append. */
  maxRecoveryMs: number;
}

/**
 * Terminates (`pg_terminate_backend`) every server connection of one store, including the
 * projection lease connection of its namespace (found through its advisory lock), never anyone else's.
 */
export async function terminateStoreBackends(
  connectionString: string,
  applicationName: string,
  namespace: string,
): Promise<number> {
  const admin = new pg.Client({ connectionString });
  await admin.connect();
  try {
    return (
      (
        await admin.query(
          `SELECT pg_terminate_backend(pid), pid FROM pg_stat_activity
      WHERE application_name = $1
         OR pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory'
                     AND classid::bigint = (hashtext($2)::bigint & 4294967295))`,
          [applicationName, namespace],
        )
      ).rowCount ?? 0
    );
  } finally {
    await admin.end();
  }
}

/** Drops a scratch schema (bench and tests create one per run). */
export async function dropScratchSchema(connectionString: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.end();
  }
}

/**
 * Writers append while a projection runs and a subscriber follows; the store's connections are
 * terminated several times. Returns the counts the fault test asserts on and the bench records.
 */
export async function runPostgresFaultScenario(options: PostgresFaultOptions): Promise<PostgresFaultResult> {
  const applicationName = `ordo-rel-${randomUUID().slice(0, 8)}`;
  const namespace = `pf${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const root = await openPostgresStore({
    connectionString: options.connectionString,
    schema: options.schema,
    applicationName,
    poolSize: 4,
    pollIntervalMs: 50,
  });
  const store: EventStore = root.withNamespace(namespace);
  const registry = createProjectionRegistry({
    store,
    projections: [ledgerProjection()],
    batchSize: 20,
    leaseTtlMs: 1_000,
    pollIntervalMs: 50,
  });
  const projectionErrors = new Map<string, string>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        const error = (await registry.status('ledger')).lastError;
        if (error && !projectionErrors.has(error.code)) projectionErrors.set(error.code, error.message);
      } catch {
        // Status reads fail too while connections are cut; the runner's own errors are what counts.
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const subscriber = startResubscriber(store, 50);
  try {
    await registry.start();
    const { tally, done } = startFaultWriters({
      store,
      writers: options.writers,
      batches: options.batches,
      batchSize: options.batchSize,
      retryPauseMs: 20,
      giveUpAfterMs: 20_000,
    });
    let terminations = 0;
    let terminatedBackends = 0;
    let maxRecoveryMs = 0;
    const total = options.writers * options.batches;
    for (let threshold = options.terminateEvery; threshold < total; threshold += options.terminateEvery) {
      await until(
        () => tally.acknowledgedBatches >= threshold || tally.unexpected.length > 0,
        `${threshold} batches`,
      );
      if (tally.unexpected.length > 0) break;
      terminatedBackends += await terminateStoreBackends(
        options.connectionString,
        applicationName,
        namespace,
      );
      terminations++;
      const at = Date.now();
      const acked = tally.acknowledgedBatches;
      await until(
        () => tally.acknowledgedBatches > acked || tally.acknowledgedBatches === total,
        'an append after the termination',
      );
      maxRecoveryMs = Math.max(maxRecoveryMs, Date.now() - at);
    }
    await done;
    const { audit, log } = await auditLog(store, tally.acknowledged);
    await registry.waitForCatchUp({ timeoutMs: 30_000 }).catch(async (error: unknown) => {
      console.error(JSON.stringify((await registry.status('ledger')).lastError));
      throw error;
    });
    const live = await readModel(registry, 'ledger');
    const clean = await cleanRebuild(store, ledgerProjection());
    await until(() => subscriber.tally.delivered.length >= log.length, 'the subscriber to catch up');
    const delivered = subscriber.tally.delivered.map((e) => e.id);
    return {
      ...audit,
      acknowledgedBatches: tally.acknowledgedBatches,
      acknowledgedEvents: [...tally.acknowledged.values()].reduce((n, ids) => n + ids.length, 0),
      terminations,
      terminatedBackends,
      appendUnavailableErrors: tally.unavailableErrors,
      subscriptionUnavailableErrors: subscriber.tally.unavailableErrors,
      projectionErrorCodes: [...projectionErrors.keys()],
      projectionErrorMessages: [...projectionErrors.values()],
      unexpected: [...tally.unexpected, ...subscriber.tally.unexpected].map((e) => String(e)),
      subscriptionExactlyOnceInOrder: JSON.stringify(delivered) === JSON.stringify(log.map((e) => e.id)),
      projectionEqualsCleanRebuild: JSON.stringify(live) === JSON.stringify(clean),
      maxRecoveryMs,
    };
  } finally {
    sampling = false;
    await sampler;
    await subscriber.stop();
    await registry.stop();
    await root.close();
  }
}
