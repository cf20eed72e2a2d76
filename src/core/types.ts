/** Any JSON value. Stored data and metadata must be representable as JSON without loss. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An event to append. `id` makes retries idempotent; `tags` feed query-based conditions. */
export interface NewEvent {
  type: string;
  data: Json;
  metadata?: Record<string, Json>;
  id?: string;
  tags?: string[];
}

/** An event as stored: every optional field of {@link NewEvent} is filled in. */
export interface RecordedEvent extends Required<NewEvent> {
  streamId: string;
  /** 1-based and contiguous within the stream. */
  version: number;
  /** Global position; strictly increasing in the order readers receive events. */
  position: Position;
  timestamp: Date;
}

/**
 * What the caller believes the stream's version to be.
 * A number is the exact current version (0 is the same as `'no_stream'`).
 */
export type ExpectedVersion = number | 'any' | 'no_stream' | 'stream_exists';

/** Opaque global position, totally ordered by `comparePositions`. `START` ('0') is before every event. */
export type Position = string;

/** Matches events whose type is in `types` (when given) AND that carry all of `tags` (when given). */
export interface EventQuery {
  types?: string[];
  tags?: string[];
}

/** Fails an append if any event matching the query exists after `after` (or at all without it). */
export interface AppendCondition {
  failIfEventsMatch: EventQuery | EventQuery[];
  after?: Position;
}

export interface AppendOptions {
  expectedVersion?: ExpectedVersion;
  condition?: AppendCondition;
}

export interface AppendResult {
  streamId: string;
  firstVersion: number;
  lastVersion: number;
  /** Position of the last event of the append. */
  position: Position;
}

export interface ReadStreamOptions {
  /** Inclusive; defaults to 1 (forwards) or the last version (backwards). */
  fromVersion?: number;
  /** Inclusive bound in the direction of reading. */
  toVersion?: number;
  limit?: number;
  direction?: 'forwards' | 'backwards';
}

/** A stored record that could not be decoded; reported, never hidden. */
export interface MalformedRecord {
  streamId: string;
  version: number;
  position: Position;
  raw: unknown;
  error: Error;
}

export interface ReadStreamResult {
  events: RecordedEvent[];
  malformed: MalformedRecord[];
}

/** A filter over the global log; an array matches events matching any of its queries. */
export type EventFilter = EventQuery | EventQuery[];

export interface ReadAllOptions {
  /** Exclusive lower bound; defaults to START. */
  after?: Position;
  limit?: number;
  filter?: EventFilter;
}

export interface SubscribeOptions {
  /** Exclusive; events after this position are delivered. Defaults to START (everything). */
  after?: Position;
  filter?: EventFilter;
  /** Called when the handler throws or the backend fails; the subscription is then closed. */
  onError?: (error: Error) => void;
  /** Called once the subscription has delivered everything that existed when it started. */
  onCaughtUp?: (position: Position) => void;
}

/**
 * A live subscription. The handler is awaited: events are delivered one at a time, in global order,
 * each exactly once per subscription.
 */
export interface Subscription {
  /** Stops delivery; resolves once no handler call is running. */
  close(): Promise<void>;
  /** Position of the last event handed to the handler (START when none). */
  readonly position: Position;
  /** Resolves when the subscription stops; rejects with the error that stopped it, if any. */
  readonly closed: Promise<void>;
}

export type SubscriptionHandler = (event: RecordedEvent) => void | Promise<void>;

export interface Snapshot<S = Json> {
  version: number;
  state: S;
  /** Caller-defined schema tag, so snapshots of an older shape can be ignored. */
  schema?: string;
}

export interface StoredSnapshot<S = Json> extends Required<Snapshot<S>> {
  streamId: string;
  timestamp: Date;
}

/** What a backend can do; tests branch on these flags, never on backend names. */
export interface StoreCapabilities {
  /** Survives a process restart. */
  durable: boolean;
  /** Several OS processes may use the same store at once. */
  multiProcess: boolean;
  /** Inline projections can run in the append's transaction. */
  transactionalInline: boolean;
  /** Tests may corrupt stored records to check `readStreamWithErrors`. */
  corruptible: boolean;
}

/**
 * The event store contract. Every backend implements it with identical semantics:
 * appends are atomic and enforced by the backend itself, reads in global order never see a
 * late commit, and bad input throws `InvalidInputError` without writing anything.
 */
export interface EventStore {
  readonly namespace: string;
  readonly capabilities: StoreCapabilities;
  append(streamId: string, events: NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readStreamWithErrors(streamId: string, options?: ReadStreamOptions): Promise<ReadStreamResult>;
  /** 0 for an unknown stream; constant time in the stream's length. */
  streamVersion(streamId: string): Promise<number>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Position of the newest event readers can see (START when empty). */
  headPosition(): Promise<Position>;
  subscribe(options: SubscribeOptions, handler: SubscriptionHandler): Subscription;
  saveSnapshot<S extends Json = Json>(streamId: string, snapshot: Snapshot<S>): Promise<void>;
  loadSnapshot<S extends Json = Json>(streamId: string): Promise<StoredSnapshot<S> | null>;
  /** A store over the same connection, isolated to another namespace. */
  withNamespace(namespace: string): EventStore;
  close(): Promise<void>;
}

/** Options every backend accepts. */
export interface CommonStoreConfig {
  /** Isolated set of streams, positions and subscriptions. Default `default`. */
  namespace?: string;
}
