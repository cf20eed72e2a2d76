import { driverOf } from '../core/driver-event-store.js';
import { InvalidInputError } from '../core/errors.js';
import { parseJson, serializeJson } from '../core/json.js';
import { maxPosition, START } from '../core/position.js';
import { matchesAny } from '../core/query.js';
import type { EventStore, Json, RecordedEvent } from '../core/types.js';
import { type ApplyOutcome, applyEvents } from './apply-events.js';
import { decodeRecord } from './decode-record.js';
import type { AnyProjection, Projection } from './define-projection.js';
import { DocumentBatch } from './document-batch.js';
import { parseDiagnostics } from './projection-runner.js';
import {
  type CheckpointRecord,
  type ProjectionStorage,
  type SlotCommit,
  slotKey,
} from './projection-storage.js';

/**
 * Applies `projection` inside every append transaction of `store` (same namespace): documents and
 * checkpoint are written in the append's transaction, so a throwing handler fails the append and
 * nothing is written. Requires `capabilities.transactionalInline` (not NATS). On SQLite the
 * transaction is synchronous: handlers must be synchronous (read with `ctx.docs.getSync`).
 * Returns the uninstall function. Events appended before installation are not applied.
 */
export function installInlineProjection(
  store: EventStore,
  storage: ProjectionStorage,
  projection: AnyProjection,
  generation: number,
): () => void {
  const driver = driverOf(store);
  if (!store.capabilities.transactionalInline || !driver?.addAppendHook) {
    throw new InvalidInputError(
      'projection.mode',
      `projection ${projection.name}: this store has no transactional inline projections (capabilities.transactionalInline is false); use mode 'async'`,
    );
  }
  const slot = slotKey(projection.name, generation);
  let slots = installed.get(driver);
  if (!slots) {
    slots = new Set();
    installed.set(driver, slots);
  }
  if (slots.has(slot)) {
    throw new InvalidInputError(
      'projection',
      `inline projection ${projection.name} is already installed on this store`,
    );
  }
  slots.add(slot);
  const readSync = storage.readDocumentSync?.bind(storage, slot);
  const sync = storage.sync;
  const remove = driver.addAppendHook(({ records, transaction }) => {
    const events = records.filter((r) => matchesAny(projection.query, r.type, r.tags)).map(decodeRecord);
    if (events.length === 0) return;
    if (sync) {
      const checkpoint = sync.readCheckpoint(slot);
      const docs = new DocumentBatch(
        async () => undefined,
        async () => [],
        readSync,
      );
      const outcome = applyEvents(
        projection,
        initial(projection, checkpoint),
        events,
        docs,
        true,
      ) as ApplyOutcome<Json>;
      if (outcome.failure) throw outcome.failure;
      sync.commit(slot, toCommit(projection, checkpoint, events, outcome, docs));
      return;
    }
    return (async () => {
      const checkpoint = await storage.readCheckpoint(slot, transaction);
      const docs = new DocumentBatch(
        (id) => storage.readDocument(slot, id, transaction),
        (options) => storage.listDocuments(slot, options),
        readSync,
      );
      const outcome = await applyEvents(projection, initial(projection, checkpoint), events, docs);
      if (outcome.failure) throw outcome.failure;
      await storage.commit(slot, toCommit(projection, checkpoint, events, outcome, docs), transaction);
    })();
  });
  return () => {
    remove();
    slots.delete(slot);
  };
}

/** Inline projections installed per driver, so that one is never applied twice by one store. */
const installed = new WeakMap<object, Set<string>>();

function initial(projection: Projection, checkpoint: CheckpointRecord | null): Json {
  return checkpoint ? parseJson(checkpoint.state) : projection.init();
}

function toCommit(
  projection: AnyProjection,
  checkpoint: CheckpointRecord | null,
  events: RecordedEvent[],
  outcome: ApplyOutcome<Json>,
  docs: DocumentBatch,
): SlotCommit {
  const diagnostics = parseDiagnostics(checkpoint?.parked);
  diagnostics.parked.push(...outcome.parked);
  return {
    checkpoint: {
      position: maxPosition(checkpoint?.position ?? START, events[events.length - 1]!.position),
      state: serializeJson(outcome.state, `projection ${projection.name} state`),
      processed: (checkpoint?.processed ?? 0) + outcome.consumed,
      parked: JSON.stringify(diagnostics),
      updatedAt: Date.now(),
    },
    documents: docs.pending,
  };
}
