import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { driverOf } from '../core/driver-event-store.js';
import { InvalidInputError, OrdoError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import { comparePositions, START } from '../core/position.js';
import type { EventFilter, EventStore, Json, Position, RecordedEvent } from '../core/types.js';
import type { ParkedEvent } from './apply-events.js';
import type { AnyProjection, DocumentEntry, DocumentReader, Projection } from './define-projection.js';
import { assertDocumentId } from './document-batch.js';
import { installInlineProjection } from './inline-projection.js';
import { UnknownProjectionError } from './projection-errors.js';
import {
  type ProjectionErrorInfo,
  ProjectionRunner,
  type ProjectionRunState,
  parseDiagnostics,
} from './projection-runner.js';
import { type ActiveSlot, type ProjectionStorage, slotKey } from './projection-storage.js';
import { projectionStorageFor } from './projection-storage-for.js';
import { type LockedProjection, withLockOn } from './with-lock-on.js';

/** What `createProjectionRegistry` accepts. */
export interface ProjectionRegistryConfig {
  store: EventStore;
  projections: AnyProjection[];
  /** Where read models live; default: the store's own database (see `projectionStorageFor`). */
  storage?: ProjectionStorage;
  /**
   * Lease time-to-live (default 5000 ms). A killed runner is replaced after at most
   * `leaseTtlMs + leaseTtlMs / 5` plus one batch.
   */
  leaseTtlMs?: number;
  /** Events per read/commit (default 1000). */
  batchSize?: number;
  /** How often an idle runner polls for events from other processes (default: the store's poll interval). */
  pollIntervalMs?: number;
  /** Lease owner id (default: host, pid and a random suffix). */
  owner?: string;
}

/** A registered projection. */
export interface ProjectionInfo {
  name: string;
  version: number;
  mode: 'async' | 'inline';
}

/** Progress of a rebuild, for progress bars. `total` is counted when the rebuild starts. */
export interface RebuildProgress {
  name: string;
  generation: number;
  processed: number;
  total: number;
}

export interface RebuildOptions {
  onProgress?: (progress: RebuildProgress) => void;
}

export interface RebuildResult {
  name: string;
  /** The generation readers now use. */
  generation: number;
  version: number;
  processed: number;
  durationMs: number;
}

/** Status of one projection as any process sees it (local runner state when this process runs it). */
export interface ProjectionStatus {
  name: string;
  version: number;
  mode: 'async' | 'inline';
  /** Generation readers use. */
  generation: number;
  state: ProjectionRunState;
  /** Last applied position (START when none). */
  position: Position;
  /** Matching events after `position` (counted up to `lagCap`; `lagCapped` when more). */
  lagEvents: number;
  lagCapped: boolean;
  /** Age of the oldest unapplied matching event (0 when caught up). */
  lagMs: number;
  processed: number;
  lastError: ProjectionErrorInfo | null;
  parked: ParkedEvent[];
  /** This process holds the projection's lease. */
  leaseHeld: boolean;
  /** ISO time of the last checkpoint write, or null. */
  updatedAt: string | null;
  /** Present while this process rebuilds the projection. */
  rebuild: RebuildProgress | null;
}

export interface WaitForCatchUpOptions {
  /** One projection (default: all). */
  name?: string;
  /** Default 30 000 ms; then `CATCH_UP_TIMEOUT`. */
  timeoutMs?: number;
}

/** Runs and serves a set of projections over one store; the API the server and CLI use. */
export interface ProjectionRegistry {
  readonly store: EventStore;
  /** Creates storage, activates generations and starts runners / installs inline hooks. Idempotent. */
  start(): Promise<void>;
  /** Stops runners (releasing leases) and uninstalls inline hooks. */
  stop(): Promise<void>;
  list(): ProjectionInfo[];
  status(): Promise<ProjectionStatus[]>;
  status(name: string): Promise<ProjectionStatus>;
  status(name?: string): Promise<ProjectionStatus | ProjectionStatus[]>;
  /**
   * Blue/green rebuild: builds a new generation beside the live one (readers keep the live one),
   * then switches readers in one atomic write once caught up, and drops the old generation.
   * Concurrent calls for one projection share one rebuild.
   */
  rebuild(name: string, options?: RebuildOptions): Promise<RebuildResult>;
  /** Read access to the live generation's documents. */
  documents<D extends Json = Json>(name: string): DocumentReader<D>;
  /** The live generation's state. */
  state<S extends Json = Json>(name: string): Promise<S>;
  /** Resolves once the projections have applied every event visible when called. */
  waitForCatchUp(options?: WaitForCatchUpOptions): Promise<void>;
  /** Restarts a failed or stopped projection from its last checkpoint (retrying the failed event). */
  restart(name: string): Promise<void>;
  /** {@link withLockOn} bound to this registry's store, as `factus.withLockOn(…)` in FactCast. */
  withLockOn<S extends Json, D extends Json>(projection: Projection<S, D>): LockedProjection<S, D>;
  withLockOn(query: EventFilter): LockedProjection<RecordedEvent[], Json>;
}

const LAG_CAP = 10_000;

interface Entry {
  projection: Projection;
  generation: number;
  runner: ProjectionRunner | undefined;
  uninstall: (() => void) | undefined;
  rebuilding: Promise<RebuildResult> | undefined;
  rebuildRunner: ProjectionRunner | undefined;
  progress: RebuildProgress | null;
}

/**
 * Creates a registry. Nothing runs before `start()`; `status`, `documents`, `state` and `rebuild`
 * also work without it (e.g. from a CLI process while a server runs the projections).
 */
export function createProjectionRegistry(config: ProjectionRegistryConfig): ProjectionRegistry {
  return new Registry(config);
}

class Registry implements ProjectionRegistry {
  readonly store: EventStore;

  withLockOn<S extends Json, D extends Json>(projection: Projection<S, D>): LockedProjection<S, D>;
  withLockOn(query: EventFilter): LockedProjection<RecordedEvent[], Json>;
  withLockOn(target: Projection | EventFilter): LockedProjection<unknown, Json> {
    return withLockOn(this.store, target as EventFilter) as LockedProjection<unknown, Json>;
  }

  readonly #entries = new Map<string, Entry>();
  readonly #owner: string;
  readonly #leaseTtlMs: number;
  readonly #batchSize: number;
  readonly #pollIntervalMs: number;
  #storage: Promise<ProjectionStorage>;
  #started = false;
  #watcher: NodeJS.Timeout | undefined;
  #following = false;

  constructor(config: ProjectionRegistryConfig) {
    if (typeof config !== 'object' || config === null || typeof config.store?.readAll !== 'function') {
      throw new InvalidInputError('store', 'an event store is required');
    }
    if (!Array.isArray(config.projections)) throw new InvalidInputError('projections', 'must be an array');
    this.store = config.store;
    for (const projection of config.projections) {
      if (this.#entries.has(projection.name)) {
        throw new InvalidInputError('projections', `duplicate projection name ${projection.name}`);
      }
      this.#entries.set(projection.name, {
        projection,
        generation: 0,
        runner: undefined,
        uninstall: undefined,
        rebuilding: undefined,
        rebuildRunner: undefined,
        progress: null,
      });
    }
    this.#leaseTtlMs = positive(config.leaseTtlMs, 5_000, 'leaseTtlMs');
    this.#batchSize = positive(config.batchSize, 1_000, 'batchSize');
    this.#pollIntervalMs = positive(
      config.pollIntervalMs,
      driverOf(config.store)?.pollIntervalMs ?? 200,
      'pollIntervalMs',
    );
    this.#owner = config.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#storage = config.storage
      ? config.storage.init().then(() => config.storage!)
      : Promise.resolve().then(() => projectionStorageFor(config.store));
    this.#storage.catch(() => {});
  }

  list(): ProjectionInfo[] {
    return [...this.#entries.values()].map(({ projection }) => ({
      name: projection.name,
      version: projection.version,
      mode: projection.mode,
    }));
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    try {
      const storage = await this.#storage;
      for (const entry of this.#entries.values()) {
        const { projection } = entry;
        const active = await this.#activeOrCreate(storage, projection);
        entry.generation = active.generation;
        if (projection.mode === 'inline') {
          entry.uninstall = installInlineProjection(this.store, storage, projection, active.generation);
        } else if (active.version < projection.version) {
          // Changed handlers: the old generation keeps serving readers until the new one is built.
          this.rebuild(projection.name).catch(() => {});
        } else if (active.version === projection.version) {
          this.#startRunner(entry, storage, active.generation);
        }
        // Otherwise this process runs older handlers than the live generation: it leaves it alone.
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.#watcher = setInterval(
      () => {
        // One check at a time: a slow storage must not start two runners for one switch.
        if (this.#following) return;
        this.#following = true;
        this.#follow()
          .catch(() => {})
          .finally(() => {
            this.#following = false;
          });
      },
      Math.max(50, this.#leaseTtlMs / 2),
    );
    this.#watcher.unref();
  }

  async stop(): Promise<void> {
    this.#started = false;
    if (this.#watcher) clearInterval(this.#watcher);
    this.#watcher = undefined;
    const stopping: Promise<void>[] = [];
    for (const entry of this.#entries.values()) {
      entry.uninstall?.();
      entry.uninstall = undefined;
      if (entry.runner) stopping.push(entry.runner.stop());
      if (entry.rebuildRunner) stopping.push(entry.rebuildRunner.stop());
    }
    await Promise.all(stopping);
    await Promise.all([...this.#entries.values()].map((e) => e.rebuilding?.catch(() => {})));
  }

  status(): Promise<ProjectionStatus[]>;
  status(name: string): Promise<ProjectionStatus>;
  status(name?: string): Promise<ProjectionStatus | ProjectionStatus[]>;
  async status(name?: string): Promise<ProjectionStatus | ProjectionStatus[]> {
    if (name !== undefined) return this.#status(this.#entry(name));
    return Promise.all([...this.#entries.values()].map((entry) => this.#status(entry)));
  }

  async #status(entry: Entry): Promise<ProjectionStatus> {
    const storage = await this.#storage;
    const { projection } = entry;
    const active = await storage.readActive(projection.name);
    const generation = active?.generation ?? entry.generation;
    const checkpoint =
      generation > 0 ? await storage.readCheckpoint(slotKey(projection.name, generation)) : null;
    const diagnostics = parseDiagnostics(checkpoint?.parked);
    const runner = entry.runner?.generation === generation ? entry.runner : undefined;
    const position = checkpoint?.position ?? START;
    const pending = await this.store.readAll({
      after: position,
      filter: projection.query,
      limit: LAG_CAP + 1,
    });
    const error = runner?.diagnostics.error ?? diagnostics.error;
    let state: ProjectionRunState;
    if (entry.rebuilding) state = 'rebuilding';
    else if (runner) state = runner.state;
    else if (projection.mode === 'inline' && entry.uninstall) state = 'running';
    else state = diagnostics.error ? 'failed' : 'stopped';
    return {
      name: projection.name,
      version: projection.version,
      mode: projection.mode,
      generation,
      state,
      position,
      lagEvents: Math.min(pending.length, LAG_CAP),
      lagCapped: pending.length > LAG_CAP,
      lagMs: pending.length > 0 ? Math.max(0, Date.now() - pending[0]!.timestamp.getTime()) : 0,
      processed: checkpoint?.processed ?? 0,
      lastError: error,
      parked: diagnostics.parked,
      leaseHeld: runner?.holdsLease ?? false,
      updatedAt: checkpoint ? new Date(checkpoint.updatedAt).toISOString() : null,
      rebuild: entry.progress,
    };
  }

  rebuild(name: string, options: RebuildOptions = {}): Promise<RebuildResult> {
    let entry: Entry;
    try {
      entry = this.#entry(name);
      if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
        throw new InvalidInputError('onProgress', 'must be a function');
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (entry.projection.mode === 'inline') {
      return Promise.reject(
        new InvalidInputError(
          'name',
          `projection ${name} is inline; rebuilding inline projections is not supported`,
        ),
      );
    }
    if (!entry.rebuilding) {
      entry.rebuilding = this.#rebuild(entry, options).finally(() => {
        entry.rebuilding = undefined;
        entry.progress = null;
      });
    }
    return entry.rebuilding;
  }

  async #rebuild(entry: Entry, options: RebuildOptions): Promise<RebuildResult> {
    const started = Date.now();
    const storage = await this.#storage;
    const { projection } = entry;
    const active = await storage.readActive(projection.name);
    const generation = (active?.generation ?? 0) + 1;
    const slot = slotKey(projection.name, generation);
    // Leftovers of an interrupted rebuild may come from other handler code: start clean,
    // unless another process is building this generation right now (it holds the lease).
    const lease = await storage.acquireLease(slot, this.#owner, this.#leaseTtlMs);
    if (lease) {
      await storage.dropSlot(slot);
      await storage.releaseLease(lease);
    }
    const total = await countMatching(this.store, projection);
    const progress: RebuildProgress = { name: projection.name, generation, processed: 0, total };
    entry.progress = progress;
    options.onProgress?.({ ...progress });
    const runner = new ProjectionRunner({
      store: this.store,
      storage,
      projection,
      generation,
      owner: this.#owner,
      leaseTtlMs: this.#leaseTtlMs,
      batchSize: this.#batchSize,
      pollIntervalMs: this.#pollIntervalMs,
      rebuild: true,
      onCommit: (processed) => {
        progress.processed = processed;
        progress.total = Math.max(progress.total, processed);
        options.onProgress?.({ ...progress });
      },
    });
    entry.rebuildRunner = runner;
    runner.start();
    try {
      await runner.done;
    } finally {
      entry.rebuildRunner = undefined;
    }
    if (runner.state === 'failed') {
      const error = runner.diagnostics.error;
      throw new OrdoError('REBUILD_FAILED', `rebuild of ${projection.name} failed: ${error?.message}`, {
        cause: error,
      });
    }
    if (runner.caughtUpTo === undefined) {
      throw new OrdoError('REBUILD_STOPPED', `rebuild of ${projection.name} was stopped before it caught up`);
    }
    // The swap: one write of the active pointer. Readers switch on their next read.
    await storage.activate(projection.name, { generation, version: projection.version });
    const previous = entry.runner;
    entry.generation = generation;
    if (this.#started) this.#startRunner(entry, storage, generation);
    else entry.runner = undefined;
    if (previous) await previous.stop();
    if (active) await storage.dropSlot(slotKey(projection.name, active.generation));
    progress.processed = runner.processed;
    options.onProgress?.({ ...progress, total: Math.max(progress.total, runner.processed) });
    return {
      name: projection.name,
      generation,
      version: projection.version,
      processed: runner.processed,
      durationMs: Date.now() - started,
    };
  }

  documents<D extends Json = Json>(name: string): DocumentReader<D> {
    const entry = this.#entry(name);
    const slot = async () => slotKey(name, (await this.#liveGeneration(entry)) ?? 0);
    return {
      get: async (id: string) => {
        assertDocumentId(id);
        const storage = await this.#storage;
        const text = await storage.readDocument(await slot(), id);
        return text === undefined ? undefined : (parseJson(text) as D);
      },
      find: async (options: { after?: string; limit?: number } = {}) => {
        const storage = await this.#storage;
        const limit = options.limit ?? 1000;
        if (options.after !== undefined && typeof options.after !== 'string') {
          throw new InvalidInputError('after', 'must be a document id');
        }
        if (!Number.isSafeInteger(limit) || limit < 1)
          throw new InvalidInputError('limit', 'must be a positive integer');
        const rows = await storage.listDocuments(await slot(), {
          ...(options.after === undefined ? {} : { after: options.after }),
          limit,
        });
        return rows.map((row): DocumentEntry<D> => ({ id: row.id, doc: parseJson(row.doc) as D }));
      },
    };
  }

  async state<S extends Json = Json>(name: string): Promise<S> {
    const entry = this.#entry(name);
    const storage = await this.#storage;
    const generation = await this.#liveGeneration(entry);
    const checkpoint = generation ? await storage.readCheckpoint(slotKey(name, generation)) : null;
    return (checkpoint ? parseJson(checkpoint.state) : entry.projection.init()) as S;
  }

  async waitForCatchUp(options: WaitForCatchUpOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const entries = options.name === undefined ? [...this.#entries.values()] : [this.#entry(options.name)];
    const deadline = Date.now() + timeoutMs;
    const target = await this.store.headPosition();
    await Promise.all(
      entries.map(async (entry) => {
        if (entry.projection.mode === 'inline') return;
        for (;;) {
          const runner = entry.runner;
          if (runner?.holdsLease) return runner.waitForCatchUp(Math.max(1, deadline - Date.now()));
          // Another process runs it (or nobody yet): watch the stored checkpoint.
          if (await this.#caughtUp(entry, target)) return;
          if (runner?.state === 'failed') {
            throw new OrdoError('PROJECTION_FAILED', `projection ${entry.projection.name} failed`);
          }
          if (Date.now() > deadline) {
            throw new OrdoError(
              'CATCH_UP_TIMEOUT',
              `projection ${entry.projection.name} did not catch up within ${timeoutMs} ms`,
            );
          }
          await delay(20);
        }
      }),
    );
  }

  async restart(name: string): Promise<void> {
    const entry = this.#entry(name);
    if (entry.projection.mode === 'inline') return;
    const storage = await this.#storage;
    if (entry.runner) await entry.runner.stop();
    const active = await this.#activeOrCreate(storage, entry.projection);
    entry.generation = active.generation;
    this.#startRunner(entry, storage, active.generation);
  }

  /** True when no matching event at or before `target` is after the stored checkpoint. */
  async #caughtUp(entry: Entry, target: Position): Promise<boolean> {
    const storage = await this.#storage;
    const generation = await this.#liveGeneration(entry);
    if (!generation) return false;
    const checkpoint = await storage.readCheckpoint(slotKey(entry.projection.name, generation));
    const [next] = await this.store.readAll({
      after: checkpoint?.position ?? START,
      filter: entry.projection.query,
      limit: 1,
    });
    return next === undefined || comparePositions(next.position, target) > 0;
  }

  async #liveGeneration(entry: Entry): Promise<number | undefined> {
    if (this.#started && entry.generation > 0) return entry.generation;
    const active = await (await this.#storage).readActive(entry.projection.name);
    return active?.generation;
  }

  async #activeOrCreate(storage: ProjectionStorage, projection: Projection): Promise<ActiveSlot> {
    const active = await storage.readActive(projection.name);
    if (active) return active;
    const created = { generation: 1, version: projection.version };
    await storage.activate(projection.name, created);
    return created;
  }

  #startRunner(entry: Entry, storage: ProjectionStorage, generation: number): void {
    const runner = new ProjectionRunner({
      store: this.store,
      storage,
      projection: entry.projection,
      generation,
      owner: this.#owner,
      leaseTtlMs: this.#leaseTtlMs,
      batchSize: this.#batchSize,
      pollIntervalMs: this.#pollIntervalMs,
    });
    entry.runner = runner;
    runner.start();
  }

  /** Follows rebuilds done by other processes: switch the local runner to the active generation. */
  async #follow(): Promise<void> {
    const storage = await this.#storage;
    for (const entry of this.#entries.values()) {
      if (!this.#started || entry.rebuilding || entry.projection.mode === 'inline') continue;
      const active = await storage.readActive(entry.projection.name);
      if (!active || active.generation === entry.generation || !this.#started) continue;
      const previous = entry.runner;
      entry.generation = active.generation;
      if (active.version === entry.projection.version) this.#startRunner(entry, storage, active.generation);
      // A newer version went live elsewhere: this process's handlers cannot produce it.
      else entry.runner = undefined;
      if (previous) {
        await previous.stop();
        // The old generation is no longer read; it may have been written after the switch.
        if (previous.generation !== active.generation) await storage.dropSlot(previous.slot);
      }
    }
  }

  #entry(name: string): Entry {
    const entry = this.#entries.get(name);
    if (!entry) throw new UnknownProjectionError(name);
    return entry;
  }
}

/** Counts events matching the projection's query (the total of a rebuild's progress). */
async function countMatching(store: EventStore, projection: Projection): Promise<number> {
  let count = 0;
  let after: Position = START;
  for (;;) {
    const page = await store.readAll({ after, filter: projection.query, limit: 10_000 });
    count += page.length;
    if (page.length < 10_000) return count;
    after = page[page.length - 1]!.position;
  }
}

function positive(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new InvalidInputError(field, 'must be a positive integer');
  return value;
}
