import type { EventStoreDriver, PreparedAppend, StoredRecord } from './driver.js';
import { DuplicateEventIdError } from './driver.js';
import { InvalidInputError, isConflict, MalformedRecordError, StoreClosedError } from './errors.js';
import { parseJson, serializeJson } from './json.js';
import { limits } from './limits.js';
import { startPollingSubscription } from './polling-subscription.js';
import { START } from './position.js';
import type {
  AppendOptions,
  AppendResult,
  EventQuery,
  EventStore,
  Json,
  MalformedRecord,
  NewEvent,
  Position,
  ReadAllOptions,
  ReadStreamOptions,
  ReadStreamResult,
  RecordedEvent,
  Snapshot,
  StoreCapabilities,
  StoredSnapshot,
  SubscribeOptions,
  Subscription,
  SubscriptionHandler,
} from './types.js';
import {
  assertNamespace,
  assertStreamId,
  prepareAppend,
  validateReadAllOptions,
  validateReadStreamOptions,
} from './validation.js';

const drivers = new WeakMap<EventStore, EventStoreDriver>();

/** State shared by a store and every store `withNamespace` derived from it (one connection). */
interface SharedConnection {
  closed: boolean;
  subscriptions: Set<Subscription>;
}

/** The driver behind a store built by {@link DriverEventStore} (for projections and tooling in this package). */
export function driverOf(store: EventStore): EventStoreDriver | undefined {
  return drivers.get(store);
}

/**
 * The one implementation of the `EventStore` contract: validates input before anything is
 * written, decodes records (reporting malformed ones), makes retries idempotent by event id and
 * provides subscriptions. Backends only implement an {@link EventStoreDriver}.
 */
export class DriverEventStore implements EventStore {
  readonly #driver: EventStoreDriver;
  readonly #subscriptions = new Set<Subscription>();
  readonly #connection: SharedConnection;
  readonly #ownsConnection: boolean;
  #closed = false;

  /** `connection` is internal: stores derived with `withNamespace` share their parent's. */
  constructor(driver: EventStoreDriver, connection?: SharedConnection) {
    this.#driver = driver;
    this.#ownsConnection = connection === undefined;
    this.#connection = connection ?? { closed: false, subscriptions: new Set() };
    drivers.set(this, driver);
  }

  get namespace(): string {
    return this.#driver.namespace;
  }

  get capabilities(): StoreCapabilities {
    return this.#driver.capabilities;
  }

  async append(streamId: string, events: NewEvent[], options?: AppendOptions): Promise<AppendResult> {
    this.#assertOpen();
    const prepared = prepareAppend(streamId, events, options);
    try {
      return await this.#driver.append(prepared);
    } catch (error) {
      if (!isConflict(error) && !(error instanceof DuplicateEventIdError)) throw error;
      const original = await this.#findOriginal(prepared);
      if (original) return original;
      if (error instanceof DuplicateEventIdError) {
        throw new InvalidInputError(
          'events',
          `event id ${error.eventId} is already stored in this stream by another append`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  /** The result of an earlier append carrying exactly these ids at consecutive versions, if any. */
  async #findOriginal(prepared: PreparedAppend): Promise<AppendResult | undefined> {
    if (!prepared.events.every((e) => e.idGiven)) return undefined;
    const ids = prepared.events.map((e) => e.id);
    const found = await this.#driver.findByIds(prepared.streamId, ids);
    if (found.length !== ids.length) return undefined;
    const first = found[0]!;
    for (let i = 0; i < found.length; i++) {
      const record = found[i]!;
      if (record.id !== ids[i] || record.version !== first.version + i) return undefined;
    }
    const last = found[found.length - 1]!;
    return {
      streamId: prepared.streamId,
      firstVersion: first.version,
      lastVersion: last.version,
      position: last.position,
    };
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    const { events, malformed } = await this.readStreamWithErrors(streamId, options);
    if (malformed.length > 0) {
      const m = malformed[0]!;
      throw new MalformedRecordError(
        m,
        `stream ${JSON.stringify(streamId)} has ${malformed.length} undecodable record(s), first at version ${m.version}; use readStreamWithErrors`,
      );
    }
    return events;
  }

  async readStreamWithErrors(streamId: string, options?: ReadStreamOptions): Promise<ReadStreamResult> {
    this.#assertOpen();
    assertStreamId(streamId);
    validateReadStreamOptions(options);
    const direction = options?.direction ?? 'forwards';
    const records = await this.#driver.readStream(streamId, {
      fromVersion: options?.fromVersion ?? (direction === 'forwards' ? 1 : Number.MAX_SAFE_INTEGER),
      ...(options?.toVersion === undefined ? {} : { toVersion: options.toVersion }),
      limit: Math.min(options?.limit ?? limits.maxReadLimit * 10, Number.MAX_SAFE_INTEGER),
      direction,
    });
    return decodeAll(records);
  }

  async streamVersion(streamId: string): Promise<number> {
    this.#assertOpen();
    assertStreamId(streamId);
    return this.#driver.streamVersion(streamId);
  }

  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    this.#assertOpen();
    const filter = validateReadAllOptions(options);
    return this.#readAll(options?.after ?? START, options?.limit ?? limits.maxReadLimit, filter);
  }

  async #readAll(after: Position, limit: number, filter: EventQuery[] | undefined): Promise<RecordedEvent[]> {
    const records = await this.#driver.readAll({ after, limit, ...(filter ? { filter } : {}) });
    const { events, malformed } = decodeAll(records);
    if (malformed.length > 0) {
      const m = malformed[0]!;
      // Global reads cannot skip a record silently: fail loudly with the position to repair.
      throw new MalformedRecordError(
        m,
        `undecodable record at position ${m.position} (stream ${JSON.stringify(m.streamId)})`,
      );
    }
    return events;
  }

  async headPosition(): Promise<Position> {
    this.#assertOpen();
    return this.#driver.headPosition();
  }

  subscribe(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    this.#assertOpen();
    if (typeof handler !== 'function') throw new InvalidInputError('handler', 'must be a function');
    const filter = validateReadAllOptions({ after: options?.after, filter: options?.filter });
    const subscription = startPollingSubscription({
      after: options?.after ?? START,
      filter,
      batchSize: 500,
      pollIntervalMs: this.#driver.pollIntervalMs,
      read: (after, limit, f) => this.#readAll(after, limit, f),
      onAppend: (listener) => this.#driver.onAppend(listener),
      handler,
      ...(options?.onError ? { onError: options.onError } : {}),
      ...(options?.onCaughtUp ? { onCaughtUp: options.onCaughtUp } : {}),
    });
    this.#subscriptions.add(subscription);
    this.#connection.subscriptions.add(subscription);
    const forget = () => {
      this.#subscriptions.delete(subscription);
      this.#connection.subscriptions.delete(subscription);
    };
    subscription.closed.then(forget, forget);
    return subscription;
  }

  async saveSnapshot<S extends Json = Json>(streamId: string, snapshot: Snapshot<S>): Promise<void> {
    this.#assertOpen();
    assertStreamId(streamId);
    if (typeof snapshot !== 'object' || snapshot === null)
      throw new InvalidInputError('snapshot', 'must be an object');
    if (!Number.isSafeInteger(snapshot.version) || snapshot.version < 0) {
      throw new InvalidInputError('snapshot.version', 'must be a non-negative integer');
    }
    if (
      snapshot.schema !== undefined &&
      (typeof snapshot.schema !== 'string' || snapshot.schema.length > 256)
    ) {
      throw new InvalidInputError('snapshot.schema', 'must be a string of at most 256 characters');
    }
    const state = serializeJson(snapshot.state, 'snapshot.state');
    if (Buffer.byteLength(state) > limits.maxAppendBytes)
      throw new InvalidInputError('snapshot.state', 'too large');
    await this.#driver.saveSnapshot(streamId, {
      version: snapshot.version,
      state,
      schema: snapshot.schema ?? '',
      timestamp: Date.now(),
    });
  }

  async loadSnapshot<S extends Json = Json>(streamId: string): Promise<StoredSnapshot<S> | null> {
    this.#assertOpen();
    assertStreamId(streamId);
    const record = await this.#driver.loadSnapshot(streamId);
    if (!record) return null;
    return {
      streamId,
      version: record.version,
      state: parseJson(record.state) as S,
      schema: record.schema,
      timestamp: new Date(record.timestamp),
    };
  }

  withNamespace(namespace: string): EventStore {
    assertNamespace(namespace);
    return new DriverEventStore(this.#driver.withNamespace(namespace), this.#connection);
  }

  /**
   * Closes this store and its subscriptions. Closing the store that opened the connection also
   * closes every store derived from it with `withNamespace` (they then throw `StoreClosedError`);
   * closing a derived store leaves the connection open for the others.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsConnection) this.#connection.closed = true;
    const subscriptions = this.#ownsConnection ? this.#connection.subscriptions : this.#subscriptions;
    await Promise.all([...subscriptions].map((s) => s.close()));
    await this.#driver.close();
  }

  #assertOpen(): void {
    if (this.#closed || this.#connection.closed) throw new StoreClosedError();
  }
}

function decodeAll(records: StoredRecord[]): ReadStreamResult {
  const events: RecordedEvent[] = [];
  const malformed: MalformedRecord[] = [];
  for (const record of records) {
    try {
      events.push(decode(record));
    } catch (error) {
      malformed.push({
        streamId: record.streamId,
        version: record.version,
        position: record.position,
        raw: record,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }
  return { events, malformed };
}

function decode(record: StoredRecord): RecordedEvent {
  const metadata = parseJson(record.metadata);
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new TypeError('metadata is not a JSON object');
  }
  return {
    streamId: record.streamId,
    version: record.version,
    position: record.position,
    id: record.id,
    type: record.type,
    data: parseJson(record.data),
    metadata,
    tags: record.tags,
    timestamp: new Date(record.timestamp),
  };
}
