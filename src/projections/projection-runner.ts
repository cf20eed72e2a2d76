import { setTimeout as delay } from 'node:timers/promises';
import { driverOf } from '../core/driver-event-store.js';
import { OrdoError } from '../core/errors.js';
import { parseJson, serializeJson } from '../core/json.js';
import { comparePositions, maxPosition, START } from '../core/position.js';
import type { EventStore, Json, Position } from '../core/types.js';
import { applyEvents, type ParkedEvent } from './apply-events.js';
import type { AnyProjection } from './define-projection.js';
import { DocumentBatch } from './document-batch.js';
import { LeaseLostError, type ProjectionHandlerError } from './projection-errors.js';
import { type Lease, type ProjectionStorage, slotKey } from './projection-storage.js';

/** Lifecycle state shown in a projection's status. `standby`: another process holds the lease. */
export type ProjectionRunState = 'running' | 'catching_up' | 'stopped' | 'failed' | 'rebuilding' | 'standby';

/** The last error of a projection, with the event that caused it when a handler threw. */
export interface ProjectionErrorInfo {
  code: string;
  message: string;
  event?: { streamId: string; version: number; position: Position; type: string; id: string };
  at: string;
}

/** Persisted next to the checkpoint so every process sees parked events and the stopping error. */
export interface Diagnostics {
  parked: ParkedEvent[];
  error: ProjectionErrorInfo | null;
}

/** Parses the diagnostics column (tolerates an empty value). */
export function parseDiagnostics(text: string | undefined): Diagnostics {
  if (!text) return { parked: [], error: null };
  const value = parseJson(text) as Partial<Diagnostics> | null;
  return { parked: value?.parked ?? [], error: value?.error ?? null };
}

/** Turns any error into what status shows. */
export function errorInfo(error: unknown): ProjectionErrorInfo {
  const handler = error as Partial<ProjectionHandlerError>;
  return {
    code: typeof handler.code === 'string' ? handler.code : 'ERROR',
    message: error instanceof Error ? error.message : String(error),
    ...(handler.event ? { event: { ...handler.event } } : {}),
    at: new Date().toISOString(),
  };
}

/** Documents a runner keeps in memory between batches (beyond this the cache starts over). */
const CACHE_LIMIT = 50_000;

export interface ProjectionRunnerConfig {
  store: EventStore;
  storage: ProjectionStorage;
  projection: AnyProjection;
  generation: number;
  /** Unique per runner host (process + registry); the lease owner. */
  owner: string;
  leaseTtlMs: number;
  batchSize: number;
  pollIntervalMs: number;
  /** Runs a rebuild: state shows `rebuilding` and the loop ends once caught up. */
  rebuild?: boolean;
  /** Called after every committed batch (for progress bars). */
  onCommit?: (processed: number) => void;
}

/**
 * Runs one generation of an async projection: pulls events matching the projection's query in
 * global order (`readAll`), folds each batch and commits documents + checkpoint in one write,
 * guarded by the lease's fencing token. At-least-once: after a crash the runner resumes from the
 * last committed checkpoint, so the effects of a batch are committed exactly once with it.
 * Only the lease holder processes; others wait in `standby` and take over when the lease expires.
 */
export class ProjectionRunner {
  readonly slot: string;
  readonly #config: ProjectionRunnerConfig;
  #state: ProjectionRunState = 'stopped';
  #lease: Lease | undefined;
  #renewedAt = 0;
  #position: Position = START;
  #projectionState: Json = null;
  #processed = 0;
  #diagnostics: Diagnostics = { parked: [], error: null };
  #lastEventTime: number | undefined;
  /** Every event visible up to this position has been consumed. */
  #caughtUpTo: Position | undefined;
  #stopped = true;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** An append happened since the last read: do not sleep before reading again. */
  #pending = false;
  #unlisten: (() => void) | undefined;
  readonly #waiters = new Set<() => void>();
  /**
   * Committed documents of this slot (null: known absent). Valid while this runner holds the
   * lease, since it is then the slot's only writer; cleared whenever the checkpoint is reloaded.
   */
  readonly #cache = new Map<string, string | null>();

  constructor(config: ProjectionRunnerConfig) {
    this.#config = config;
    this.slot = slotKey(config.projection.name, config.generation);
  }

  get generation(): number {
    return this.#config.generation;
  }
  get state(): ProjectionRunState {
    return this.#state;
  }
  get position(): Position {
    return this.#position;
  }
  get processed(): number {
    return this.#processed;
  }
  get diagnostics(): Diagnostics {
    return this.#diagnostics;
  }
  get holdsLease(): boolean {
    return this.#lease !== undefined;
  }
  get caughtUpTo(): Position | undefined {
    return this.#caughtUpTo;
  }
  get lastEventTime(): number | undefined {
    return this.#lastEventTime;
  }

  /** Starts the loop (no-op when running). Resolves with the loop's end from `done`. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#diagnostics = { ...this.#diagnostics, error: null };
    this.#state = this.#config.rebuild ? 'rebuilding' : 'catching_up';
    const driver = driverOf(this.#config.store);
    this.#unlisten = driver?.onAppend(() => {
      this.#pending = true;
      this.#wake?.();
    });
    this.#loop = this.#run().finally(() => {
      this.#unlisten?.();
      this.#stopped = true;
      for (const waiter of this.#waiters) waiter();
    });
  }

  /** Resolves when the loop has ended (stopped, failed, or a rebuild caught up). */
  get done(): Promise<void> {
    return this.#loop ?? Promise.resolve();
  }

  /** Stops after the current batch and releases the lease. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
    if (this.#state !== 'failed') this.#state = 'stopped';
  }

  /** Resolves once every event visible when called is consumed; rejects if the runner fails or stops first. */
  async waitForCatchUp(timeoutMs: number): Promise<void> {
    const target = await this.#config.store.headPosition();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#caughtUpTo !== undefined && comparePositions(this.#caughtUpTo, target) >= 0) return;
      if (this.#state === 'failed') {
        throw new OrdoError(
          'PROJECTION_FAILED',
          `projection ${this.#config.projection.name} failed: ${this.#diagnostics.error?.message}`,
        );
      }
      if (this.#stopped)
        throw new OrdoError(
          'PROJECTION_STOPPED',
          `projection ${this.#config.projection.name} is not running`,
        );
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new OrdoError(
          'CATCH_UP_TIMEOUT',
          `projection ${this.#config.projection.name} did not catch up within ${timeoutMs} ms`,
        );
      }
      await new Promise<void>((resolve) => {
        const waiters = this.#waiters;
        const timer = setTimeout(done, Math.min(remaining, 100));
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  async #run(): Promise<void> {
    const { store, storage, projection, leaseTtlMs, batchSize } = this.#config;
    const renewEvery = Math.max(10, Math.floor(leaseTtlMs / 3));
    let nearEnd = true;
    try {
      while (!this.#stopped) {
        try {
          if (!this.#lease) {
            const lease = await storage.acquireLease(this.slot, this.#config.owner, leaseTtlMs);
            if (!lease) {
              this.#state = 'standby';
              await this.#sleep(Math.max(10, Math.floor(leaseTtlMs / 5)));
              continue;
            }
            this.#lease = lease;
            this.#renewedAt = Date.now();
            await this.#load();
          } else if (Date.now() - this.#renewedAt >= renewEvery) {
            if (!(await storage.renewLease(this.#lease, leaseTtlMs))) {
              this.#lease = undefined;
              this.#cache.clear();
              continue;
            }
            this.#renewedAt = Date.now();
          }
          this.#pending = false;
          // The head is read before the batch (so everything up to it is covered when the batch
          // is short), but only near the end of the log: full batches need no head.
          const head = nearEnd ? await store.headPosition() : undefined;
          const batch = await store.readAll({
            after: this.#position,
            limit: batchSize,
            filter: projection.query,
          });
          if (batch.length > 0 && !(await this.#process(batch))) return;
          if (batch.length < batchSize) {
            if (head === undefined) {
              nearEnd = true;
              continue;
            }
            this.#caughtUpTo = maxPosition(head, this.#position);
            for (const waiter of this.#waiters) waiter();
            if (this.#config.rebuild) return;
            this.#state = 'running';
            if (!this.#pending) await this.#sleep(Math.min(this.#config.pollIntervalMs, renewEvery));
          } else {
            nearEnd = false;
            this.#state = this.#config.rebuild ? 'rebuilding' : 'catching_up';
          }
        } catch (error) {
          if (error instanceof LeaseLostError) {
            this.#cache.clear();
            // Another runner owns the projection now: forget local progress, reload when re-acquired.
            this.#lease = undefined;
            continue;
          }
          // A closed store ends the runner (instead of retrying forever and keeping the process alive).
          const closed = await store.headPosition().then(
            () => false,
            (e: unknown) => (e as { code?: unknown })?.code === 'STORE_CLOSED',
          );
          if (closed) return;
          // Backend trouble: keep it visible and retry; the checkpoint is unchanged.
          this.#diagnostics = { ...this.#diagnostics, error: errorInfo(error) };
          await this.#sleep(Math.max(100, this.#config.pollIntervalMs));
        }
      }
    } finally {
      if (this.#lease) {
        const lease = this.#lease;
        this.#lease = undefined;
        await storage.releaseLease(lease).catch(() => {});
      }
    }
  }

  async #load(): Promise<void> {
    this.#cache.clear();
    const checkpoint = await this.#config.storage.readCheckpoint(this.slot);
    if (checkpoint) {
      this.#position = checkpoint.position;
      this.#projectionState = parseJson(checkpoint.state);
      this.#processed = checkpoint.processed;
      this.#diagnostics = { ...parseDiagnostics(checkpoint.parked), error: null };
    } else {
      this.#position = START;
      this.#projectionState = this.#config.projection.init();
      this.#processed = 0;
      this.#diagnostics = { parked: [], error: null };
    }
  }

  /** Folds and commits one batch; false when a handler failed and the runner stops. */
  async #process(batch: Awaited<ReturnType<EventStore['readAll']>>): Promise<boolean> {
    const { storage, projection } = this.#config;
    const cache = this.#cache;
    const docs = new DocumentBatch(
      async (id) => {
        const cached = cache.get(id);
        if (cached !== undefined) return cached ?? undefined;
        const stored = await storage.readDocument(this.slot, id);
        cache.set(id, stored ?? null);
        return stored;
      },
      (options) => storage.listDocuments(this.slot, options),
      storage.readDocumentSync
        ? (id) => {
            const cached = cache.get(id);
            if (cached !== undefined) return cached ?? undefined;
            const stored = storage.readDocumentSync!(this.slot, id);
            cache.set(id, stored ?? null);
            return stored;
          }
        : undefined,
    );
    const outcome = await applyEvents(projection, this.#projectionState, batch, docs);
    const diagnostics: Diagnostics = {
      parked: [...this.#diagnostics.parked, ...outcome.parked],
      error: outcome.failure ? errorInfo(outcome.failure) : null,
    };
    const position = outcome.position ?? this.#position;
    const processed = this.#processed + outcome.consumed;
    let state: string;
    try {
      state = serializeJson(outcome.state, `projection ${projection.name} state`);
    } catch (error) {
      // A handler returned a state that is not JSON: a bug in the projection, not in the store.
      this.#diagnostics = { ...this.#diagnostics, error: errorInfo(error) };
      this.#state = 'failed';
      return false;
    }
    await storage.commit(this.slot, {
      checkpoint: {
        position,
        state,
        processed,
        parked: JSON.stringify(diagnostics),
        updatedAt: Date.now(),
      },
      documents: docs.pending,
      ...(this.#lease ? { lease: this.#lease } : {}),
    });
    this.#position = position;
    this.#projectionState = outcome.state;
    this.#processed = processed;
    this.#diagnostics = diagnostics;
    if (this.#cache.size + docs.pending.size > CACHE_LIMIT) this.#cache.clear();
    for (const [id, doc] of docs.pending) this.#cache.set(id, doc);
    if (outcome.consumed > 0) this.#lastEventTime = batch[outcome.consumed - 1]!.timestamp.getTime();
    this.#config.onCommit?.(processed);
    if (outcome.failure) {
      this.#state = 'failed';
      return false;
    }
    return true;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const controller = new AbortController();
    this.#wake = () => controller.abort();
    return delay(ms, undefined, { signal: controller.signal }).then(
      () => {
        this.#wake = undefined;
      },
      () => {
        this.#wake = undefined;
      },
    );
  }
}
