import { StoreUnavailableError } from '../../src/core/errors.js';
import { START } from '../../src/core/position.js';
import type { EventStore, Position, RecordedEvent, Subscription } from '../../src/core/types.js';
import { ledgerEvent } from './read-model.js';

/** What the writers of a fault run saw. */
export interface WriterTally {
  /** Batches acknowledged (each retried with the same event ids until acknowledged). */
  acknowledgedBatches: number;
  /** Appends that failed with `StoreUnavailableError` (and were retried). */
  unavailableErrors: number;
  /** Failures of any other kind: must stay empty (a raw driver error would land here). */
  unexpected: unknown[];
  /** Event ids of every acknowledged batch, per batch. */
  acknowledged: Map<string, string[]>;
}

export interface FaultWritersConfig {
  store: EventStore;
  writers: number;
  batches: number;
  batchSize: number;
  /** Pause after a failed attempt before retrying it. */
  retryPauseMs: number;
  /** Longest time one batch may keep failing before the run gives up (bounds the test). */
  giveUpAfterMs: number;
}

/**
 * Concurrent writers, each appending `batches` batches of ledger events to its own stream. A batch
 * that fails with `StoreUnavailableError` is retried with the same event ids (its outcome is
 * unknown to the writer, and the store's idempotency by id must make the retry safe); any other
 * error is recorded as unexpected and stops that writer.
 */
export function startFaultWriters(config: FaultWritersConfig): { tally: WriterTally; done: Promise<void> } {
  const tally: WriterTally = {
    acknowledgedBatches: 0,
    unavailableErrors: 0,
    unexpected: [],
    acknowledged: new Map(),
  };
  const done = Promise.all(
    Array.from({ length: config.writers }, async (_, writer) => {
      for (let batch = 0; batch < config.batches; batch++) {
        const first = (writer * config.batches + batch) * config.batchSize;
        const events = Array.from({ length: config.batchSize }, (_, i) => ledgerEvent(first + i));
        const since = Date.now();
        for (;;) {
          try {
            await config.store.append(`writer-${writer}`, events);
            tally.acknowledgedBatches++;
            tally.acknowledged.set(
              `w${writer}-b${batch}`,
              events.map((e) => e.id),
            );
            break;
          } catch (error) {
            if (!(error instanceof StoreUnavailableError) || Date.now() - since > config.giveUpAfterMs) {
              tally.unexpected.push(error);
              return;
            }
            tally.unavailableErrors++;
            await new Promise((resolve) => setTimeout(resolve, config.retryPauseMs));
          }
        }
      }
    }),
  ).then(() => undefined);
  return { tally, done };
}

/** Events a resubscribing subscriber received, and the errors that closed its subscriptions. */
export interface SubscriberTally {
  delivered: RecordedEvent[];
  /** Subscriptions closed by `StoreUnavailableError` (then resumed from their last position). */
  unavailableErrors: number;
  unexpected: unknown[];
}

/**
 * A subscriber the way an application would write one: when the backend fails, the subscription
 * ends with the error; after a pause it subscribes again after the last position it handled.
 * Exactly-once, in-order delivery across the gap is what the fault tests check.
 */
export function startResubscriber(
  store: EventStore,
  retryPauseMs: number,
): { tally: SubscriberTally; stop: () => Promise<void> } {
  const tally: SubscriberTally = { delivered: [], unavailableErrors: 0, unexpected: [] };
  let stopped = false;
  let current: Subscription | undefined;
  let position: Position = START;
  const loop = (async () => {
    while (!stopped) {
      const subscription = store.subscribe({ after: position, onError: () => {} }, (event) => {
        tally.delivered.push(event);
        position = event.position;
      });
      current = subscription;
      try {
        await subscription.closed;
      } catch (error) {
        if (error instanceof StoreUnavailableError) tally.unavailableErrors++;
        else tally.unexpected.push(error);
      }
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
    }
  })();
  return {
    tally,
    async stop() {
      stopped = true;
      await current?.close();
      await loop;
    },
  };
}

/** Audit of the stored log against what the writers were told. */
export interface LogAudit {
  stored: number;
  /** Acknowledged event ids missing from the store. */
  lost: number;
  /** Batches stored only in part. */
  partial: number;
  duplicates: number;
}

/** Reads every event of the namespace and compares it with the acknowledged batches. */
export async function auditLog(
  store: EventStore,
  acknowledged: Map<string, string[]>,
): Promise<{ audit: LogAudit; log: RecordedEvent[] }> {
  const log: RecordedEvent[] = [];
  for (let after: Position | undefined; ; ) {
    const page = await store.readAll({ limit: 5_000, ...(after ? { after } : {}) });
    log.push(...page);
    if (page.length < 5_000) break;
    after = page[page.length - 1]!.position;
  }
  const ids = new Set<string>();
  let duplicates = 0;
  for (const event of log) {
    if (ids.has(event.id)) duplicates++;
    ids.add(event.id);
  }
  let lost = 0;
  let partial = 0;
  for (const batch of acknowledged.values()) {
    const present = batch.filter((id) => ids.has(id)).length;
    lost += batch.length - present;
    if (present > 0 && present < batch.length) partial++;
  }
  return { audit: { stored: log.length, lost, partial, duplicates }, log };
}
