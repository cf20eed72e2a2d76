import { InvalidInputError } from '../core/errors.js';
import type { EventFilter, EventQuery, Json, RecordedEvent } from '../core/types.js';
import { normalizeFilter } from '../core/validation.js';

/** Event type → data type, used to type handlers (e.g. `{ UserCreated: { id: string; name: string } }`). */
export type EventMap = Record<string, Json>;

/** A recorded event whose `type` and `data` are narrowed for one handler. */
export interface ProjectionEvent<K extends string = string, D = Json> extends RecordedEvent {
  type: K;
  data: D & Json;
}

/** A document as returned by `find`. */
export interface DocumentEntry<D> {
  id: string;
  doc: D;
}

/** Read access to a projection's documents. */
export interface DocumentReader<D extends Json = Json> {
  /** The document with this id, or `undefined`. */
  get(id: string): Promise<D | undefined>;
  /** Documents in id order (byte order), `after` an id (exclusive), at most `limit` (default 1000). */
  find(options?: { after?: string; limit?: number }): Promise<DocumentEntry<D>[]>;
}

/**
 * Documents keyed by id, as handlers see them. Writes are buffered and committed together with
 * the projection's checkpoint (atomically where the storage allows); reads see the buffered writes.
 */
export interface Documents<D extends Json = Json> extends DocumentReader<D> {
  /**
   * Synchronous `get` for storages that read synchronously (memory, SQLite); throws
   * `SYNC_READ_UNSUPPORTED` elsewhere. Inline projections on SQLite run inside SQLite's
   * synchronous transaction, so their handlers must be synchronous and read with this.
   */
  getSync(id: string): D | undefined;
  /** Stores a JSON document (validated now: non-JSON throws `InvalidInputError`). */
  put(id: string, doc: D): void;
  delete(id: string): void;
}

/** What a handler gets besides the state and the event. */
export interface ProjectionContext<D extends Json = Json> {
  readonly projection: string;
  readonly docs: Documents<D>;
}

/** Returns the next state, or `undefined` to keep the state (e.g. handlers that only write documents). */
export type ProjectionHandler<S, D extends Json, K extends string, E> = (
  state: S,
  event: ProjectionEvent<K, E>,
  ctx: ProjectionContext<D>,
) => S | undefined | Promise<S | undefined>;

/** One handler per event type. */
export type ProjectionHandlers<S, D extends Json, E extends EventMap> = {
  [K in keyof E & string]?: ProjectionHandler<S, D, K, E[K]>;
};

/** What `defineProjection` accepts. */
export interface ProjectionConfig<S extends Json, D extends Json, E extends EventMap> {
  /** 1..100 characters of `[A-Za-z0-9_.-]`. */
  name: string;
  /** Bump when handlers change meaning: the registry rebuilds the read model blue/green. */
  version: number;
  /** Events read by the runner; defaults to `{ types: <handler keys> }`. */
  query?: EventFilter;
  /** Initial state (default `null`). */
  init?: () => S;
  handlers: ProjectionHandlers<S, D, E>;
  /** `async` (default): checkpointed runner. `inline`: applied in the append's transaction. */
  mode?: 'async' | 'inline';
  /** A throwing handler stops the projection (`stop`, default) or parks the event and goes on (`park`). */
  onError?: 'stop' | 'park';
}

/** A validated projection definition. */
export interface Projection<S extends Json = Json, D extends Json = Json, E extends EventMap = EventMap> {
  readonly name: string;
  readonly version: number;
  /** Normalized any-of queries. */
  readonly query: EventQuery[];
  readonly init: () => S;
  readonly handlers: ProjectionHandlers<S, D, E>;
  readonly mode: 'async' | 'inline';
  readonly onError: 'stop' | 'park';
}

/** A projection of any state, document and event types (for collections of projections). */
// biome-ignore lint/suspicious/noExplicitAny: handler parameter types differ per projection; any keeps them assignable
export type AnyProjection = Projection<any, any, any>;

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/**
 * Defines a projection: a fold of the events matching `query`, in global order, into a state
 * and/or documents keyed by id. Throws `InvalidInputError` for a bad name, version, query or handler.
 * When `query` lists types, every listed type needs a handler, so no event is ignored by accident.
 */
export function defineProjection<S extends Json = null, D extends Json = Json, E extends EventMap = EventMap>(
  config: ProjectionConfig<S, D, E>,
): Projection<S, D, E> {
  if (typeof config !== 'object' || config === null)
    throw new InvalidInputError('projection', 'must be an object');
  if (typeof config.name !== 'string' || !NAME.test(config.name)) {
    throw new InvalidInputError('projection.name', 'must be 1..100 characters of [A-Za-z0-9_.-]');
  }
  if (!Number.isSafeInteger(config.version) || config.version < 1) {
    throw new InvalidInputError('projection.version', 'must be a positive integer');
  }
  if (typeof config.handlers !== 'object' || config.handlers === null) {
    throw new InvalidInputError('projection.handlers', 'must be an object of functions keyed by event type');
  }
  const types = Object.keys(config.handlers);
  for (const type of types) {
    if (typeof (config.handlers as Record<string, unknown>)[type] !== 'function') {
      throw new InvalidInputError(`projection.handlers.${type}`, 'must be a function');
    }
  }
  if (config.init !== undefined && typeof config.init !== 'function') {
    throw new InvalidInputError('projection.init', 'must be a function');
  }
  if (config.mode !== undefined && config.mode !== 'async' && config.mode !== 'inline') {
    throw new InvalidInputError('projection.mode', "must be 'async' or 'inline'");
  }
  if (config.onError !== undefined && config.onError !== 'stop' && config.onError !== 'park') {
    throw new InvalidInputError('projection.onError', "must be 'stop' or 'park'");
  }
  let query: EventQuery[];
  if (config.query === undefined) {
    if (types.length === 0) throw new InvalidInputError('projection.handlers', 'needs at least one handler');
    query = [{ types }];
  } else {
    query = normalizeFilter(config.query, 'projection.query')!;
    for (const q of query) {
      for (const type of q.types ?? []) {
        if (!types.includes(type))
          throw new InvalidInputError('projection.query', `type ${type} has no handler`);
      }
    }
  }
  return Object.freeze({
    name: config.name,
    version: config.version,
    query,
    init: config.init ?? (() => null as S),
    handlers: config.handlers,
    mode: config.mode ?? 'async',
    onError: config.onError ?? 'stop',
  });
}
