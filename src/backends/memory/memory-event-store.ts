import type {
  AppendHook,
  DriverReadAllOptions,
  EventStoreDriver,
  PreparedAppend,
  StoredRecord,
  StoredSnapshotRecord,
} from '../../core/driver.js';
import { DuplicateEventIdError } from '../../core/driver.js';
import { DriverEventStore } from '../../core/driver-event-store.js';
import { AppendConditionError, StoreClosedError } from '../../core/errors.js';
import { checkExpectedVersion } from '../../core/expected-version.js';
import { Notifier } from '../../core/notifier.js';
import { comparePositions, START } from '../../core/position.js';
import { matchesAny } from '../../core/query.js';
import type { AppendResult, EventStore, Position, StoreCapabilities } from '../../core/types.js';
import { assertNamespace } from '../../core/validation.js';
import type { MemoryStoreConfig } from './memory-config.js';

interface NamespaceState {
  log: StoredRecord[];
  streams: Map<string, StoredRecord[]>;
  ids: Map<string, Map<string, StoredRecord>>;
  snapshots: Map<string, StoredSnapshotRecord>;
  /** Inline-projection hooks; while any exist, appends of the namespace run one at a time. */
  hooks: Set<AppendHook>;
  tail: Promise<unknown>;
}

/**
 * The `transaction` an append hook receives from the memory backend: work registered with
 * `afterCommit` runs synchronously together with the append's commit, and never if the append fails.
 */
export class MemoryAppendTransaction {
  readonly #actions: Array<() => void> = [];
  afterCommit(action: () => void): void {
    this.#actions.push(action);
  }
  /** @internal */
  commit(): void {
    for (const action of this.#actions) action();
  }
}

interface Database {
  namespaces: Map<string, NamespaceState>;
  notifier: Notifier;
  closed: boolean;
}

const capabilities: StoreCapabilities = {
  durable: false,
  multiProcess: false,
  transactionalInline: true,
  corruptible: true,
};

/** Reference driver: everything in one process's memory, each append applied synchronously (atomic). */
export class MemoryDriver implements EventStoreDriver {
  readonly capabilities = capabilities;
  readonly pollIntervalMs = 1_000;
  readonly #db: Database;
  readonly #ownsDb: boolean;

  constructor(
    readonly namespace: string,
    db?: Database,
  ) {
    this.#ownsDb = db === undefined;
    this.#db = db ?? { namespaces: new Map(), notifier: new Notifier(), closed: false };
  }

  #state(): NamespaceState {
    if (this.#db.closed) throw new StoreClosedError();
    let state = this.#db.namespaces.get(this.namespace);
    if (!state) {
      state = {
        log: [],
        streams: new Map(),
        ids: new Map(),
        snapshots: new Map(),
        hooks: new Set(),
        tail: Promise.resolve(),
      };
      this.#db.namespaces.set(this.namespace, state);
    }
    return state;
  }

  async append(append: PreparedAppend): Promise<AppendResult> {
    const state = this.#state();
    if (state.hooks.size > 0) {
      // Hooks may await: serialize so that no other append interleaves between check and commit.
      const run = state.tail.then(() => this.#append(state, append));
      state.tail = run.catch(() => {});
      return run;
    }
    return this.#append(state, append);
  }

  addAppendHook(hook: AppendHook): () => void {
    const state = this.#state();
    state.hooks.add(hook);
    return () => state.hooks.delete(hook);
  }

  async #append(state: NamespaceState, append: PreparedAppend): Promise<AppendResult> {
    if (this.#db.closed) throw new StoreClosedError();
    const stream = state.streams.get(append.streamId) ?? [];
    checkExpectedVersion(append.streamId, append.expectedVersion, stream.length);
    if (append.condition) {
      const { queries, after } = append.condition;
      for (let i = after === undefined ? 0 : this.#indexAfter(state.log, after); i < state.log.length; i++) {
        const record = state.log[i]!;
        if (matchesAny(queries, record.type, record.tags)) {
          throw new AppendConditionError(
            append.streamId,
            { failIfEventsMatch: queries, ...(after ? { after } : {}) },
            record.position,
          );
        }
      }
    }
    const ids = state.ids.get(append.streamId) ?? new Map<string, StoredRecord>();
    for (const event of append.events) {
      if (ids.has(event.id)) throw new DuplicateEventIdError(append.streamId, event.id);
    }
    const records = append.events.map(
      (event, i): StoredRecord => ({
        streamId: append.streamId,
        version: stream.length + 1 + i,
        position: String(state.log.length + 1 + i),
        id: event.id,
        type: event.type,
        data: event.data,
        metadata: event.metadata,
        tags: event.tags,
        timestamp: append.timestamp.getTime(),
      }),
    );
    const transaction = new MemoryAppendTransaction();
    for (const hook of state.hooks) await hook({ append, records, transaction });
    for (const record of records) {
      stream.push(record);
      state.log.push(record);
      ids.set(record.id, record);
    }
    transaction.commit();
    const last = records[records.length - 1];
    state.streams.set(append.streamId, stream);
    state.ids.set(append.streamId, ids);
    this.#db.notifier.notify();
    const firstVersion = last!.version - append.events.length + 1;
    return { streamId: append.streamId, firstVersion, lastVersion: last!.version, position: last!.position };
  }

  /** Index of the first record after `position` (binary search; the log is in position order). */
  #indexAfter(log: StoredRecord[], position: Position): number {
    let low = 0;
    let high = log.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (comparePositions(log[mid]!.position, position) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  async readStream(
    streamId: string,
    options: { fromVersion: number; toVersion?: number; limit: number; direction: 'forwards' | 'backwards' },
  ): Promise<StoredRecord[]> {
    const stream = this.#state().streams.get(streamId) ?? [];
    const { fromVersion, toVersion, limit, direction } = options;
    if (direction === 'forwards') {
      const end = Math.min(stream.length, toVersion ?? stream.length);
      const start = Math.max(fromVersion, 1) - 1;
      return stream.slice(start, Math.max(start, Math.min(end, start + limit)));
    }
    const top = Math.min(stream.length, fromVersion);
    const bottom = Math.max(toVersion ?? 1, 1);
    const result: StoredRecord[] = [];
    for (let v = top; v >= bottom && result.length < limit; v--) result.push(stream[v - 1]!);
    return result;
  }

  async findByIds(streamId: string, ids: string[]): Promise<StoredRecord[]> {
    const index = this.#state().ids.get(streamId);
    if (!index) return [];
    return ids
      .map((id) => index.get(id))
      .filter((r): r is StoredRecord => r !== undefined)
      .sort((a, b) => a.version - b.version);
  }

  async streamVersion(streamId: string): Promise<number> {
    return this.#state().streams.get(streamId)?.length ?? 0;
  }

  async readAll({ after, limit, filter }: DriverReadAllOptions): Promise<StoredRecord[]> {
    const log = this.#state().log;
    const result: StoredRecord[] = [];
    for (let i = this.#indexAfter(log, after); i < log.length && result.length < limit; i++) {
      const record = log[i]!;
      if (!filter || matchesAny(filter, record.type, record.tags)) result.push(record);
    }
    return result;
  }

  async headPosition(): Promise<Position> {
    const log = this.#state().log;
    return log.length === 0 ? START : log[log.length - 1]!.position;
  }

  async saveSnapshot(streamId: string, snapshot: StoredSnapshotRecord): Promise<void> {
    this.#state().snapshots.set(streamId, snapshot);
  }

  async loadSnapshot(streamId: string): Promise<StoredSnapshotRecord | null> {
    return this.#state().snapshots.get(streamId) ?? null;
  }

  onAppend(listener: () => void): () => void {
    return this.#db.notifier.listen(listener);
  }

  withNamespace(namespace: string): EventStoreDriver {
    return new MemoryDriver(namespace, this.#db);
  }

  /** Test hook: replaces a stored record's data with undecodable text. */
  corrupt(streamId: string, version: number, raw = '{not json'): void {
    const record = this.#state().streams.get(streamId)?.[version - 1];
    if (!record) throw new Error(`no record ${streamId}@${version}`);
    record.data = raw;
  }

  async close(): Promise<void> {
    if (this.#ownsDb) this.#db.closed = true;
  }
}

/**
 * Creates an in-memory event store: the reference implementation of the contract, for tests and
 * prototyping. Appends are atomic and serialized by the single JavaScript thread; nothing survives
 * the process.
 */
export function createInMemoryStore(config: MemoryStoreConfig = {}): EventStore {
  const namespace = config.namespace ?? 'default';
  assertNamespace(namespace);
  return new DriverEventStore(new MemoryDriver(namespace));
}
