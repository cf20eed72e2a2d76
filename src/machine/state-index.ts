import { InvalidInputError } from '../core/errors.js';
import { comparePositions, START } from '../core/position.js';
import type { EventStore, Position, RecordedEvent, Subscription } from '../core/types.js';
import { decodeTransition, machineTag } from './machine-event.js';
import type { Tagged, Variant } from './match.js';
import {
  type Comparable,
  compareValues,
  compileWhere,
  decodeCursor,
  encodeCursor,
  isComparable,
  type OrderBy,
  type Where,
} from './state-filter.js';

/** Constructor options of {@link createStateIndex}. */
export interface StateIndexConfig<State extends Tagged = Tagged> {
  store: EventStore;
  /** The machine (or its name) whose transition events feed the index; a machine also types the index. */
  machine: { readonly name: string; initialState?: () => State } | string;
  /** Events read per page while catching up (default 500). */
  batchSize?: number;
}

/** The current state of one machine as the index knows it. */
export interface StateIndexEntry<S> {
  id: string;
  streamId: string;
  state: S;
  /** Stream version of the transition that produced `state`: pass it as `expectedVersion` to act on it. */
  version: number;
  position: Position;
  updatedAt: Date;
}

/** A query of the state index. */
export interface FindQuery<S> {
  where?: Where<S>;
  /** Default: by machine id, ascending. */
  orderBy?: OrderBy<S>;
  /** Page size, 1..10000 (default 100). */
  limit?: number;
  /** Cursor from a previous page's `next`; the same `orderBy` must be used. */
  after?: string;
}

/** One page of results; `next` is the cursor of the following page, null when this is the last. */
export interface FindResult<S> {
  items: StateIndexEntry<S>[];
  next: string | null;
}

/**
 * A queryable index of the current state of every machine of one kind, built from the machines'
 * transition events (a projection). Updates are applied in global order and each machine's entry
 * only moves to higher stream versions, so replays and overlapping reads are harmless.
 * Two implementations: {@link createStateIndex} (in process memory, rebuilt from the store on
 * start) and `createProjectedStateIndex` (documents of a registered projection, durable).
 */
export interface StateIndex<State extends Tagged> {
  /** Catches up with the store, then follows new transitions live. Resolves once caught up. */
  start(): Promise<void>;
  /** Resolves once every transition committed before the call is applied (read-your-writes after `handle`). */
  refresh(): Promise<void>;
  /** Machines in state(s) `state` matching `where`, ordered and paginated with a keyset cursor. */
  find<K extends State['type']>(
    query: FindQuery<Variant<State, K>> & { state: K | readonly K[] },
  ): Promise<FindResult<Variant<State, K>>>;
  find(query?: FindQuery<State> & { state?: undefined }): Promise<FindResult<State>>;
  /** The entry of machine `id`, if it has handled any command. */
  get(id: string): Promise<StateIndexEntry<State> | undefined>;
  /** Stops following the store. */
  close(): Promise<void>;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;

/**
 * Creates an in-memory {@link StateIndex} fed by a subscription; works on every backend. Call
 * `start()` (live) or `refresh()` (on demand) before querying.
 */
export function createStateIndex<State extends Tagged>(config: StateIndexConfig<State>): StateIndex<State> {
  if (typeof config !== 'object' || config === null || !config.store)
    throw new InvalidInputError('config', 'needs store and machine');
  const name = typeof config.machine === 'string' ? config.machine : config.machine?.name;
  if (typeof name !== 'string' || name.length === 0)
    throw new InvalidInputError('machine', 'needs a machine or its name');
  const { store } = config;
  const batchSize = config.batchSize ?? 500;
  const filter = { tags: [machineTag(name)] };
  const entries = new Map<string, StateIndexEntry<State>>();
  let position: Position = START;
  let subscription: Subscription | undefined;
  let starting: Promise<void> | undefined;
  let failure: Error | undefined;
  let pulling: Promise<void> = Promise.resolve();

  const apply = (event: RecordedEvent): void => {
    if (comparePositions(event.position, position) <= 0) return;
    const data = decodeTransition<Tagged, State>(event);
    const current = entries.get(data.id);
    if (!current || current.version < event.version) {
      entries.set(data.id, {
        id: data.id,
        streamId: event.streamId,
        state: data.state,
        version: event.version,
        position: event.position,
        updatedAt: event.timestamp,
      });
    }
    position = event.position;
  };

  const pull = async (): Promise<void> => {
    for (;;) {
      const batch = await store.readAll({ after: position, limit: batchSize, filter });
      for (const event of batch) apply(event);
      if (batch.length < batchSize) return;
    }
  };

  const assertHealthy = (): void => {
    if (failure) throw failure;
  };

  const refresh = (): Promise<void> => {
    assertHealthy();
    // Serialized: one pull at a time, each starting where the previous ended.
    pulling = pulling.catch(() => undefined).then(pull);
    return pulling;
  };

  const find = async (query?: FindQuery<State> & { state?: string | readonly string[] }) => {
    assertHealthy();
    return queryEntries(entries.values(), query);
  };

  return {
    start() {
      assertHealthy();
      // Concurrent callers share one subscription.
      starting ??= refresh().then(
        () =>
          new Promise<void>((resolve, reject) => {
            subscription = store.subscribe(
              {
                after: position,
                filter,
                onCaughtUp: () => resolve(),
                onError: (error) => {
                  failure = error;
                  reject(error);
                },
              },
              (event) => apply(event),
            );
          }),
      );
      return starting;
    },
    refresh,
    find: find as StateIndex<State>['find'],
    async get(id) {
      assertHealthy();
      const entry = entries.get(id);
      return entry ? { ...entry } : undefined;
    },
    async close() {
      await starting?.catch(() => undefined);
      const s = subscription;
      subscription = undefined;
      starting = undefined;
      await s?.close();
      await pulling.catch(() => undefined);
    },
  };
}

function normalizeOrderBy(orderBy: unknown): { field: string; direction: 'asc' | 'desc' } {
  if (orderBy === undefined) return { field: '$id', direction: 'asc' };
  if (typeof orderBy === 'string' && orderBy.length > 0) return { field: orderBy, direction: 'asc' };
  if (typeof orderBy === 'object' && orderBy !== null) {
    const { field, direction = 'asc' } = orderBy as { field?: unknown; direction?: unknown };
    if (typeof field === 'string' && field.length > 0 && (direction === 'asc' || direction === 'desc'))
      return { field, direction };
  }
  throw new InvalidInputError('orderBy', "must be a field name or { field, direction: 'asc' | 'desc' }");
}

/**
 * Filters, orders and paginates index entries (the query engine both index implementations share).
 * Throws `InvalidInputError` for a malformed query.
 */
export function queryEntries<State extends Tagged>(
  entries: Iterable<StateIndexEntry<State>>,
  query: (FindQuery<State> & { state?: string | readonly string[] }) | undefined = {},
): FindResult<State> {
  if (typeof query !== 'object' || query === null) throw new InvalidInputError('query', 'must be an object');
  const states =
    query.state === undefined
      ? undefined
      : new Set<unknown>(Array.isArray(query.state) ? query.state : [query.state]);
  if (states && [...states].some((s) => typeof s !== 'string')) {
    throw new InvalidInputError('state', 'must be a state type or a list of them');
  }
  const predicate = compileWhere(query.where);
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidInputError('limit', `must be an integer in 1..${MAX_LIMIT}`);
  }
  const order = normalizeOrderBy(query.orderBy);
  const cursor = query.after === undefined ? undefined : decodeCursor(query.after);
  if (cursor && (cursor.field !== order.field || cursor.direction !== order.direction)) {
    throw new InvalidInputError('after', `cursor belongs to orderBy ${cursor.field} ${cursor.direction}`);
  }
  const sign = order.direction === 'asc' ? 1 : -1;
  const sortValue = (entry: StateIndexEntry<State>): Comparable => {
    const value =
      order.field === '$id' ? entry.id : (entry.state as unknown as Record<string, unknown>)[order.field];
    return isComparable(value) ? value : null;
  };
  const compare = (av: Comparable, aid: string, bv: Comparable, bid: string): number =>
    sign * (compareValues(av, bv) || (aid < bid ? -1 : aid > bid ? 1 : 0));
  const matching: StateIndexEntry<State>[] = [];
  for (const entry of entries) {
    if (states && !states.has(entry.state.type)) continue;
    if (!predicate(entry.state as unknown as Record<string, unknown>)) continue;
    if (cursor && compare(sortValue(entry), entry.id, cursor.value, cursor.id) <= 0) continue;
    matching.push(entry);
  }
  matching.sort((a, b) => compare(sortValue(a), a.id, sortValue(b), b.id));
  const items = matching.slice(0, limit);
  const last = items[items.length - 1];
  const next =
    matching.length > limit && last
      ? encodeCursor({ field: order.field, direction: order.direction, value: sortValue(last), id: last.id })
      : null;
  return { items: items.map((e) => ({ ...e })), next };
}
