import { ConstantBackoff, handleWhen, retry } from 'cockatiel';
import { InvalidInputError, isConflict } from '../core/errors.js';
import { START } from '../core/position.js';
import { toQueries } from '../core/query.js';
import type {
  AppendResult,
  EventFilter,
  EventStore,
  Json,
  NewEvent,
  Position,
  RecordedEvent,
} from '../core/types.js';
import { assertStreamId, normalizeFilter } from '../core/validation.js';
import { applyEvents } from './apply-events.js';
import type { DocumentReader, Projection } from './define-projection.js';
import { DocumentBatch } from './document-batch.js';
import { LockAbortedError, LockRetriesExhaustedError } from './projection-errors.js';

/** The transaction handed to an attempt: collect events to publish, or abort. */
export interface LockTransaction<D extends Json = Json> {
  /** Queues events for `streamId`; all publishes of one attempt must target one stream (one atomic append). */
  publish(streamId: string, events: NewEvent | NewEvent[]): void;
  /** Ends the attempt with `LockAbortedError`; never retried. */
  abort(reason: string): never;
  /** The position the view was built at; the publish fails if a matching event appears after it. */
  readonly position: Position;
  /** The projection's documents as of `position` (read-only). */
  readonly docs: DocumentReader<D>;
}

/** Result of a successful attempt. */
export interface LockResult<R> {
  /** What the attempt function returned. */
  value: R;
  /** The published events as stored (empty when nothing was published). */
  published: RecordedEvent[];
  append: AppendResult | undefined;
  attempts: number;
}

/** Builder returned by {@link withLockOn}. */
export interface LockedProjection<V, D extends Json> {
  /** Retries after a conflict (default 10): attempts = retries + 1. */
  retries(count: number): LockedProjection<V, D>;
  /** Pause between attempts in milliseconds (default 0; a non-blocking wait). */
  intervalMillis(ms: number): LockedProjection<V, D>;
  /**
   * Brings the view up to date, runs `fn`, then appends what it published on the condition that no
   * event matching the projection's query exists after the view's position. On a conflict the
   * whole attempt runs again on a fresh view. `onSuccess` receives the stored published events
   * and its result is returned; without it, the attempt function's result is returned.
   */
  attempt<R>(fn: (view: V, tx: LockTransaction<D>) => R | Promise<R>): Promise<R>;
  attempt<R, T>(
    fn: (view: V, tx: LockTransaction<D>) => R | Promise<R>,
    onSuccess: (published: RecordedEvent[], result: LockResult<R>) => T | Promise<T>,
  ): Promise<T>;
}

interface View {
  state: Json;
  position: Position;
  docs: Map<string, string>;
}

// Views are kept per store and projection so that each attempt only reads new events.
const views = new WeakMap<EventStore, Map<Projection, View>>();

/**
 * FactCast-style optimistic locking on a projection (view = its state) or a plain query (view = the
 * matching events). Nothing is locked: the append is conditional on the view's position, so two
 * deciders racing on overlapping facts yield exactly one winner; losers retry with a fresh view.
 */
export function withLockOn<S extends Json, D extends Json>(
  store: EventStore,
  projection: Projection<S, D>,
): LockedProjection<S, D>;
export function withLockOn(store: EventStore, query: EventFilter): LockedProjection<RecordedEvent[], Json>;
export function withLockOn(
  store: EventStore,
  target: Projection | EventFilter,
): LockedProjection<unknown, Json> {
  if (typeof store?.append !== 'function') throw new InvalidInputError('store', 'an event store is required');
  const projection = isProjection(target) ? target : undefined;
  const query = projection ? projection.query : normalizeFilter(target as EventFilter, 'query')!;
  let retries = 10;
  let interval = 0;
  const builder: LockedProjection<unknown, Json> = {
    retries(count) {
      if (!Number.isSafeInteger(count) || count < 0)
        throw new InvalidInputError('retries', 'must be a non-negative integer');
      retries = count;
      return builder;
    },
    intervalMillis(ms) {
      if (!Number.isSafeInteger(ms) || ms < 0)
        throw new InvalidInputError('intervalMillis', 'must be a non-negative integer');
      interval = ms;
      return builder;
    },
    async attempt(
      fn: (view: unknown, tx: LockTransaction) => unknown,
      onSuccess?: (published: RecordedEvent[], result: LockResult<unknown>) => unknown,
    ): Promise<never> {
      if (typeof fn !== 'function') throw new InvalidInputError('attempt', 'must be a function');
      let attempts = 0;
      const policy = retry(handleWhen(isConflict), {
        maxAttempts: retries,
        backoff: new ConstantBackoff(interval),
      });
      let result: LockResult<unknown>;
      try {
        result = await policy.execute(async () => {
          attempts += 1;
          return runAttempt(store, projection, query, fn, attempts);
        });
      } catch (error) {
        if (isConflict(error)) throw new LockRetriesExhaustedError(attempts, { cause: error });
        throw error;
      }
      return (onSuccess ? await onSuccess(result.published, result) : result.value) as never;
    },
  };
  return builder;
}

async function runAttempt(
  store: EventStore,
  projection: Projection | undefined,
  query: EventFilter,
  fn: (view: unknown, tx: LockTransaction) => unknown,
  attempts: number,
): Promise<LockResult<unknown>> {
  let viewValue: unknown;
  let position: Position;
  let docs: Map<string, string>;
  if (projection) {
    const view = await refresh(store, projection);
    // Handlers may keep references: give the attempt its own copy of the state.
    viewValue = structuredClone(view.state);
    position = view.position;
    docs = view.docs;
  } else {
    const events = await readAllMatching(store, toQueries(query), START);
    viewValue = events;
    // The last matching event, not the head: an event landing between two reads must still conflict.
    position = events.length > 0 ? events[events.length - 1]!.position : START;
    docs = new Map();
  }
  let streamId: string | undefined;
  const queued: NewEvent[] = [];
  const tx: LockTransaction = {
    position,
    docs: new DocumentBatch(
      async (id) => docs.get(id),
      async ({ after, limit }) =>
        [...docs.keys()]
          .filter((id) => after === undefined || id > after)
          .sort()
          .slice(0, limit)
          .map((id) => ({ id, doc: docs.get(id)! })),
    ),
    publish(target, events) {
      assertStreamId(target);
      if (streamId !== undefined && streamId !== target) {
        throw new InvalidInputError('streamId', 'all publishes of one attempt must target the same stream');
      }
      streamId = target;
      queued.push(...(Array.isArray(events) ? events : [events]));
    },
    abort(reason) {
      throw new LockAbortedError(String(reason));
    },
  };
  const value = await fn(viewValue, tx);
  if (streamId === undefined || queued.length === 0)
    return { value, published: [], append: undefined, attempts };
  const append = await store.append(streamId, queued, {
    condition: { failIfEventsMatch: query, after: position },
  });
  const published = await store.readStream(streamId, {
    fromVersion: append.firstVersion,
    toVersion: append.lastVersion,
  });
  return { value, published, append, attempts };
}

/** Brings the cached view of `projection` up to date with the store. */
async function refresh(store: EventStore, projection: Projection): Promise<View> {
  let cache = views.get(store);
  if (!cache) {
    cache = new Map();
    views.set(store, cache);
  }
  const current = cache.get(projection) ?? {
    state: projection.init(),
    position: START,
    docs: new Map<string, string>(),
  };
  const events = await readAllMatching(store, projection.query, current.position);
  if (events.length === 0) {
    cache.set(projection, current);
    return current;
  }
  const docs = new DocumentBatch(
    async (id) => current.docs.get(id),
    async () => [],
    (id) => current.docs.get(id),
  );
  const outcome = await applyEvents(projection, current.state, events, docs);
  if (outcome.failure) throw outcome.failure;
  const nextDocs = new Map(current.docs);
  for (const [id, doc] of docs.pending) {
    if (doc === null) nextDocs.delete(id);
    else nextDocs.set(id, doc);
  }
  const next: View = { state: outcome.state, position: events[events.length - 1]!.position, docs: nextDocs };
  cache.set(projection, next);
  return next;
}

async function readAllMatching(
  store: EventStore,
  filter: EventFilter,
  after: Position,
): Promise<RecordedEvent[]> {
  const result: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readAll({ after, filter, limit: 5_000 });
    for (const event of page) result.push(event);
    if (page.length < 5_000) return result;
    after = page[page.length - 1]!.position;
  }
}

function isProjection(value: unknown): value is Projection {
  return (
    typeof value === 'object' &&
    value !== null &&
    'handlers' in value &&
    'name' in value &&
    'version' in value
  );
}
