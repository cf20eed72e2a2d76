import type {
  AppendResult,
  EventQuery,
  ExpectedVersion,
  Position,
  ReadStreamOptions,
  StoreCapabilities,
} from './types.js';

/** An event after validation: serialized, with an id, ready to be stored verbatim. */
export interface PreparedEvent {
  id: string;
  /** True when the caller supplied the id (only those take part in idempotency checks). */
  idGiven: boolean;
  type: string;
  /** JSON text. */
  data: string;
  /** JSON text of an object. */
  metadata: string;
  tags: string[];
}

/** A validated append, as handed to a backend driver. */
export interface PreparedAppend {
  streamId: string;
  events: PreparedEvent[];
  expectedVersion: ExpectedVersion;
  /** Normalized condition: an empty `queries` never happens. */
  condition?: { queries: EventQuery[]; after?: Position };
  timestamp: Date;
}

/** A record as a backend stores it; `data` and `metadata` are JSON text, decoded by the core. */
export interface StoredRecord {
  streamId: string;
  version: number;
  position: Position;
  id: string;
  type: string;
  data: string;
  metadata: string;
  tags: string[];
  /** Milliseconds since the epoch. */
  timestamp: number;
}

export interface StoredSnapshotRecord {
  version: number;
  /** JSON text. */
  state: string;
  schema: string;
  timestamp: number;
}

export interface DriverReadAllOptions {
  after: Position;
  limit: number;
  /** Any-of queries; undefined means every event. */
  filter?: EventQuery[];
}

/** What an {@link AppendHook} sees: the records about to be committed and the backend's open transaction. */
export interface AppendHookContext {
  readonly append: PreparedAppend;
  /** The records this append writes, with their versions and positions, in order. */
  readonly records: readonly StoredRecord[];
  /**
   * The backend's handle on the running transaction (e.g. the SQLite database inside
   * `BEGIN IMMEDIATE`, the PostgreSQL client inside `BEGIN`, a commit queue for memory).
   */
  readonly transaction: unknown;
}

/**
 * Runs inside the append's transaction, after the version/condition checks and before commit.
 * Throwing fails the append and nothing is written. Backends with synchronous transactions
 * (SQLite) require the hook to finish synchronously: a returned promise fails the append.
 */
export type AppendHook = (context: AppendHookContext) => void | Promise<void>;

/** Internal: a stored event already has one of the append's ids (per stream). */
export class DuplicateEventIdError extends Error {
  constructor(
    readonly streamId: string,
    readonly eventId: string,
    options?: { cause?: unknown },
  ) {
    super(`event id ${eventId} already stored in stream ${streamId}`, options);
  }
}

/**
 * What a backend implements; `DriverEventStore` adds validation, decoding, idempotency and
 * subscriptions on top so that every backend behaves the same.
 *
 * `append` must enforce `expectedVersion` and `condition` inside the backend (database
 * constraint, transaction or server-side compare-and-swap) and throw `VersionConflictError`
 * (with the real current version), `AppendConditionError` or `DuplicateEventIdError` without
 * writing anything.
 */
export interface EventStoreDriver {
  readonly namespace: string;
  readonly capabilities: StoreCapabilities;
  /** Poll interval of live subscriptions when no in-process wake-up arrives. */
  readonly pollIntervalMs: number;
  append(append: PreparedAppend): Promise<AppendResult>;
  readStream(
    streamId: string,
    options: Required<Omit<ReadStreamOptions, 'toVersion'>> & { toVersion?: number },
  ): Promise<StoredRecord[]>;
  /** Records of `streamId` carrying any of `ids`, in version order. */
  findByIds(streamId: string, ids: string[]): Promise<StoredRecord[]>;
  streamVersion(streamId: string): Promise<number>;
  readAll(options: DriverReadAllOptions): Promise<StoredRecord[]>;
  headPosition(): Promise<Position>;
  saveSnapshot(streamId: string, snapshot: StoredSnapshotRecord): Promise<void>;
  loadSnapshot(streamId: string): Promise<StoredSnapshotRecord | null>;
  /** Calls `listener` after appends that this process made (any namespace of the connection may share it). */
  onAppend(listener: () => void): () => void;
  /**
   * Optional: registers a hook run inside every append transaction of this namespace (inline
   * projections). Only backends with `capabilities.transactionalInline` implement it.
   * Returns the unregister function.
   */
  addAppendHook?(hook: AppendHook): () => void;
  /** A driver for another namespace over the same connection; closing it leaves the connection open. */
  withNamespace(namespace: string): EventStoreDriver;
  /** Releases what this driver owns (the connection, for the driver that opened it). */
  close(): Promise<void>;
}

/** Normalized form of an `EventQuery | EventQuery[]`. */
export type Queries = EventQuery[];
