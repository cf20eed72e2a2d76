import pg from 'pg';
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
import {
  AppendConditionError,
  InvalidInputError,
  OrdoError,
  VersionConflictError,
} from '../../core/errors.js';
import { Notifier } from '../../core/notifier.js';
import { START } from '../../core/position.js';
import type { AppendResult, EventStore, Position, StoreCapabilities } from '../../core/types.js';
import { assertNamespace } from '../../core/validation.js';
import {
  defaultPollIntervalMs,
  defaultPoolSize,
  defaultSchema,
  defaultVisibilityWaitMs,
  type PostgresConnection,
  type PostgresStoreConfig,
} from './postgres-config.js';
import { isConnectionError, isDatabaseError, sqlState, toStoreError } from './postgres-errors.js';
import { PostgresNotifications } from './postgres-notifications.js';
import { decodePosition, encodePosition } from './postgres-position.js';
import {
  encodeExpected,
  filterSql,
  normalizeConditionQuery,
  type Row,
  statementName,
  statements,
  toRecord,
} from './postgres-queries.js';
import { assertSchemaName, migrateSchema } from './postgres-schema.js';

const capabilities: StoreCapabilities = {
  durable: true,
  multiProcess: true,
  transactionalInline: true,
  corruptible: true,
};

/** Internal: what a store and the stores `withNamespace` derives from it share (one connection). */
export interface PostgresSharedState {
  connection: PostgresConnection;
  /** Inline-projection hooks by namespace. */
  hooks: Map<string, Set<AppendHook>>;
  schema: string;
  notifier: Notifier;
  pollIntervalMs: number;
  ownsConnection: boolean;
  sql: ReturnType<typeof statements>;
  /** Longest wait of a global read for transactions in flight (see `#awaitVisibility`). */
  visibilityWaitMs: number;
  /** Cross-process wake-ups, with `notify: true`. */
  notifications?: PostgresNotifications;
}

/**
 * PostgreSQL driver. Every append is one round trip and one transaction: a single statement for
 * a single event without tags or condition, the `append_events` function otherwise (stream
 * compare-and-set, condition locks and check, insert). Global reads use the transaction-id
 * snapshot rule so that readers never see a late commit (docs/postgres.md).
 *
 * `pool` and `schema` are public for layers that add tables beside the store (projections).
 */
export class PostgresDriver implements EventStoreDriver {
  readonly capabilities = capabilities;
  readonly #shared: PostgresSharedState;
  readonly #owner: boolean;

  constructor(
    readonly namespace: string,
    shared: PostgresSharedState,
    owner: boolean,
  ) {
    this.#shared = shared;
    this.#owner = owner;
  }

  /** The pool or client every query of this store goes through. */
  get pool(): PostgresConnection {
    return this.#shared.connection;
  }

  /** The schema holding the store's tables (`events`, `streams`, `snapshots`, `migrations`). */
  get schema(): string {
    return this.#shared.schema;
  }

  get pollIntervalMs(): number {
    return this.#shared.pollIntervalMs;
  }

  async #query(text: string, values: unknown[], operation: string, retry: boolean): Promise<Row[]> {
    const connection = this.#shared.connection;
    try {
      return (await connection.query<Row>({ name: statementName(text), text, values, rowMode: 'array' }))
        .rows;
    } catch (error) {
      // A read is safe to repeat: after a dropped connection the pool hands out a fresh one.
      if (retry && isConnectionError(error) && connection instanceof pg.Pool) {
        try {
          return (await connection.query<Row>({ name: statementName(text), text, values, rowMode: 'array' }))
            .rows;
        } catch (again) {
          throw toStoreError(again, operation);
        }
      }
      throw toStoreError(error, operation);
    }
  }

  async append(append: PreparedAppend): Promise<AppendResult> {
    const { streamId, events } = append;
    const hooks = this.#shared.hooks.get(this.namespace);
    if (
      events.length === 1 &&
      events[0]!.tags.length === 0 &&
      !append.condition &&
      !(hooks && hooks.size > 0)
    ) {
      return this.#appendSingle(append);
    }
    const ids: string[] = [];
    const given: boolean[] = [];
    const types: string[] = [];
    const data: string[] = [];
    const metadata: string[] = [];
    const tagCounts: number[] = [];
    const tags: string[] = [];
    for (const event of events) {
      ids.push(event.id);
      given.push(event.idGiven);
      types.push(event.type);
      data.push(event.data);
      metadata.push(event.metadata);
      tagCounts.push(event.tags.length);
      for (const tag of event.tags) tags.push(tag);
    }
    let conditions: string | null = null;
    let after = decodePosition(START);
    const queries = append.condition?.queries.map(normalizeConditionQuery);
    if (append.condition && queries) {
      conditions = JSON.stringify(queries);
      if (append.condition.after !== undefined) after = decodePosition(append.condition.after);
    }
    const values = [
      this.namespace,
      streamId,
      encodeExpected(append.expectedVersion),
      ids,
      given,
      types,
      data,
      metadata,
      tagCounts,
      tags,
      append.timestamp,
      conditions,
      after.txId,
      after.seq,
    ];
    const text = this.#shared.sql.append;
    const query = { name: statementName(text), text, values, rowMode: 'array' as const };
    if (hooks && hooks.size > 0) return this.#appendWithHooks(append, query, [...hooks]);
    let row: Row;
    try {
      row = (await this.#shared.connection.query<Row>(query)).rows[0]!;
    } catch (error) {
      throw this.#appendError(error, streamId, ids);
    }
    const result = this.#appendResult(append, row);
    this.#appended();
    return result;
  }

  /** Wakes subscriptions after a committed append: this process's at once, others' with `notify`. */
  #appended(): void {
    this.#shared.notifier.notify();
    this.#shared.notifications?.announce();
  }

  /**
   * Makes global reads see every append acknowledged before the read began: when transactions
   * are in flight, waits (at most `visibilityWaitMs`) until all of them have ended, so the
   * visibility horizon has passed every commit that happened before this call. Without it, a
   * read right after an append (of this or another process) could miss it while some unrelated
   * older transaction is open. After the bound the read goes ahead and returns what is visible
   * (less, never out of order). Skipped on an injected single client, whose own open
   * transaction could hold the horizon.
   */
  async #awaitVisibility(): Promise<void> {
    const shared = this.#shared;
    if (shared.visibilityWaitMs <= 0 || !(shared.connection instanceof pg.Pool)) return;
    const [first] = await this.#query(shared.sql.snapshot, [], 'readAll', true);
    const xmax = BigInt(first![1] as string);
    if (BigInt(first![0] as string) >= xmax) return;
    const deadline = Date.now() + shared.visibilityWaitMs;
    for (let pause = 1; Date.now() < deadline; pause = Math.min(pause * 2, 20)) {
      await new Promise((resolve) => setTimeout(resolve, pause));
      const [now] = await this.#query(shared.sql.snapshot, [], 'readAll', true);
      if (BigInt(now![0] as string) >= xmax) return;
    }
  }

  /** The single-statement append of one event without tags or condition (see `singleAppendSql`). */
  async #appendSingle(append: PreparedAppend): Promise<AppendResult> {
    const { streamId, expectedVersion } = append;
    const event = append.events[0]!;
    const single = this.#shared.sql.single;
    const text =
      expectedVersion === 'any'
        ? single.any
        : expectedVersion === 'no_stream' || expectedVersion === 0
          ? single.noStream
          : expectedVersion === 'stream_exists'
            ? single.exists
            : single.exact;
    const values: unknown[] = [
      this.namespace,
      streamId,
      event.id,
      event.idGiven,
      event.type,
      event.data,
      event.metadata,
      append.timestamp,
    ];
    if (text === single.exact) values.push(expectedVersion);
    let row: Row;
    try {
      row = (
        await this.#shared.connection.query<Row>({
          name: statementName(text),
          text,
          values,
          rowMode: 'array',
        })
      ).rows[0]!;
    } catch (error) {
      throw this.#appendError(error, streamId, [event.id]);
    }
    const [ok, version, txId, seq] = row as [boolean, number | null, string | null, string | null];
    if (!ok) {
      throw new InvalidInputError(
        'transaction',
        'an append must be the first write of its transaction (this one already has a transaction id)',
      );
    }
    if (version === null) {
      throw new VersionConflictError(streamId, expectedVersion, await this.streamVersion(streamId));
    }
    this.#appended();
    return { streamId, firstVersion: version, lastVersion: version, position: encodePosition(txId!, seq!) };
  }

  /** Turns the function's outcome row into the result, or the conflict error. */
  #appendResult(append: PreparedAppend, row: Row): AppendResult {
    const { streamId, events } = append;
    const [outcome, version, txId, seq] = row as [number, number, string | null, string | null];
    if (outcome === 1) throw new VersionConflictError(streamId, append.expectedVersion, version);
    if (outcome === 2) {
      const condition = append.condition!;
      throw new AppendConditionError(
        streamId,
        {
          failIfEventsMatch: condition.queries,
          ...(condition.after === undefined ? {} : { after: condition.after }),
        },
        encodePosition(txId!, seq!),
      );
    }
    return {
      streamId,
      firstVersion: version - events.length + 1,
      lastVersion: version,
      position: encodePosition(txId!, seq!),
    };
  }

  /**
   * The append inside an explicit transaction on one client, so that hooks (inline projections)
   * write in the same transaction: they see the records with their positions, and a throwing
   * hook rolls the whole append back. Costs two more round trips than a plain append.
   */
  async #appendWithHooks(
    append: PreparedAppend,
    query: pg.QueryConfig & { rowMode: 'array' },
    hooks: AppendHook[],
  ): Promise<AppendResult> {
    const connection = this.#shared.connection;
    let client: pg.ClientBase;
    try {
      client = connection instanceof pg.Pool ? await connection.connect() : connection;
    } catch (error) {
      throw toStoreError(error, 'append');
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const row = (await client.query<Row>(query)).rows[0]!;
      const result = this.#appendResult(append, row);
      const text = this.#shared.sql.appendedSeqs;
      const seqs = (
        await client.query<Row>({
          name: statementName(text),
          text,
          values: [this.namespace, append.streamId, result.firstVersion, result.lastVersion],
          rowMode: 'array',
        })
      ).rows.map((r) => r[0] as string);
      const txId = result.position.split('.')[0]!;
      const timestamp = append.timestamp.getTime();
      const records: StoredRecord[] = append.events.map((event, i) => ({
        streamId: append.streamId,
        version: result.firstVersion + i,
        position: encodePosition(txId, seqs[i]!),
        id: event.id,
        type: event.type,
        data: event.data,
        metadata: event.metadata,
        tags: event.tags,
        timestamp,
      }));
      for (const hook of hooks) await hook({ append, records, transaction: client });
      await client.query('COMMIT');
      this.#appended();
      return result;
    } catch (error) {
      if (isConnectionError(error)) broken = error as Error;
      else await client.query('ROLLBACK').catch((e: unknown) => (broken = e as Error));
      if (error instanceof OrdoError || !isDatabaseError(error)) throw error;
      throw this.#appendError(
        error,
        append.streamId,
        append.events.map((e) => e.id),
      );
    } finally {
      if (connection instanceof pg.Pool) (client as pg.PoolClient).release(broken);
    }
  }

  /**
   * Registers a hook run inside every append transaction of this namespace, after the version
   * and condition checks and before commit (inline projections). `transaction` is the `pg`
   * client inside `BEGIN`; an injected single client must not already be in a transaction.
   */
  addAppendHook(hook: AppendHook): () => void {
    let hooks = this.#shared.hooks.get(this.namespace);
    if (!hooks) {
      hooks = new Set();
      this.#shared.hooks.set(this.namespace, hooks);
    }
    const set = hooks;
    set.add(hook);
    return () => {
      set.delete(hook);
    };
  }

  #appendError(error: unknown, streamId: string, ids: string[]): Error {
    const state = sqlState(error);
    if (state === '23505' && (error as { constraint?: string }).constraint === 'events_event_id_unique') {
      const detail = String((error as { detail?: string }).detail ?? '');
      const id = ids.find((candidate) => detail.includes(`, ${candidate})`)) ?? ids[0]!;
      return new DuplicateEventIdError(streamId, id, { cause: error });
    }
    if (state === 'OR001') {
      return new InvalidInputError('condition', (error as Error).message, { cause: error });
    }
    if (state === 'OR002') {
      return new InvalidInputError('transaction', (error as Error).message, { cause: error });
    }
    // Includes a connection lost while committing: the outcome is unknown, and a retry with the
    // same event ids is safe because appends are idempotent by id.
    return toStoreError(error, 'append');
  }

  async readStream(
    streamId: string,
    options: { fromVersion: number; toVersion?: number; limit: number; direction: 'forwards' | 'backwards' },
  ): Promise<StoredRecord[]> {
    const { fromVersion, toVersion, limit, direction } = options;
    const sql = this.#shared.sql;
    const rows =
      direction === 'forwards'
        ? await this.#query(
            sql.readForwards,
            [this.namespace, streamId, fromVersion, toVersion ?? Number.MAX_SAFE_INTEGER, limit],
            'readStream',
            true,
          )
        : await this.#query(
            sql.readBackwards,
            [this.namespace, streamId, fromVersion, toVersion ?? 1, limit],
            'readStream',
            true,
          );
    return rows.map(toRecord);
  }

  async findByIds(streamId: string, ids: string[]): Promise<StoredRecord[]> {
    const values = [this.namespace, streamId, ids];
    let rows = await this.#query(this.#shared.sql.findByIds, values, 'findByIds', true);
    if (rows.length < ids.length)
      rows = await this.#query(this.#shared.sql.findAnyByIds, values, 'findByIds', true);
    return rows.map(toRecord);
  }

  async streamVersion(streamId: string): Promise<number> {
    const rows = await this.#query(
      this.#shared.sql.streamVersion,
      [this.namespace, streamId],
      'streamVersion',
      true,
    );
    return rows.length === 0 ? 0 : (rows[0]![0] as number);
  }

  async readAll({ after, limit, filter }: DriverReadAllOptions): Promise<StoredRecord[]> {
    await this.#awaitVisibility();
    const { txId, seq } = decodePosition(after);
    const params: unknown[] = [this.namespace, txId, seq, limit];
    const where = filter && filter.length > 0 ? ` AND ${filterSql(filter, params)}` : '';
    const rows = await this.#query(this.#shared.sql.readAll(where), params, 'readAll', true);
    return rows.map(toRecord);
  }

  async headPosition(): Promise<Position> {
    await this.#awaitVisibility();
    const rows = await this.#query(this.#shared.sql.head, [this.namespace], 'headPosition', true);
    return rows.length === 0 ? START : encodePosition(rows[0]![0] as string, rows[0]![1] as string);
  }

  async saveSnapshot(streamId: string, snapshot: StoredSnapshotRecord): Promise<void> {
    await this.#query(
      this.#shared.sql.saveSnapshot,
      [this.namespace, streamId, snapshot.version, snapshot.state, snapshot.schema, snapshot.timestamp],
      'saveSnapshot',
      false,
    );
  }

  async loadSnapshot(streamId: string): Promise<StoredSnapshotRecord | null> {
    const rows = await this.#query(
      this.#shared.sql.loadSnapshot,
      [this.namespace, streamId],
      'loadSnapshot',
      true,
    );
    const row = rows[0];
    if (!row) return null;
    return {
      version: row[0] as number,
      state: row[1] as string,
      schema: row[2] as string,
      timestamp: Math.round(row[3] as number),
    };
  }

  onAppend(listener: () => void): () => void {
    return this.#shared.notifier.listen(listener);
  }

  withNamespace(namespace: string): EventStoreDriver {
    assertNamespace(namespace);
    return new PostgresDriver(namespace, this.#shared, false);
  }

  /** Test hook: replaces a stored record's data with undecodable text. */
  async corrupt(streamId: string, version: number, raw = '{not json'): Promise<void> {
    await this.#query(this.#shared.sql.corrupt, [this.namespace, streamId, version, raw], 'corrupt', false);
  }

  async close(): Promise<void> {
    const connection = this.#shared.connection;
    if (this.#owner) await this.#shared.notifications?.close();
    if (this.#owner && this.#shared.ownsConnection && connection instanceof pg.Pool && !connection.ended) {
      await connection.end();
    }
  }
}

/**
 * Opens a PostgreSQL event store (creating or upgrading its schema unless `migrate: false`).
 *
 * Guarantees: an append is one atomic transaction (all its events or none); `expectedVersion`
 * is a compare-and-set on the stream row, so racing processes get exactly one winner; conditions
 * cannot miss a matching append that is in flight; global reads and subscriptions deliver
 * events in position order and never a commit that lands behind a position already delivered.
 * Connection failures surface as `StoreUnavailableError` and the pool reconnects by itself.
 */
export async function openPostgresStore(config: PostgresStoreConfig): Promise<EventStore> {
  if (typeof config !== 'object' || config === null)
    throw new InvalidInputError('config', 'must be an object');
  const namespace = config.namespace ?? 'default';
  assertNamespace(namespace);
  const schema = config.schema ?? defaultSchema;
  assertSchemaName(schema);
  const pollIntervalMs = config.pollIntervalMs ?? defaultPollIntervalMs;
  const visibilityWaitMs = config.visibilityWaitMs ?? defaultVisibilityWaitMs;
  if (!Number.isFinite(visibilityWaitMs) || visibilityWaitMs < 0) {
    throw new InvalidInputError('visibilityWaitMs', 'must be a non-negative number');
  }
  if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 1)
    throw new InvalidInputError('pollIntervalMs', 'must be a positive number');
  let connection: PostgresConnection;
  let ownsConnection = false;
  if (config.pool) {
    connection = config.pool;
  } else {
    if (typeof config.connectionString !== 'string' || config.connectionString.length === 0) {
      throw new InvalidInputError('connectionString', 'is required unless a pool is given');
    }
    const poolSize = config.poolSize ?? defaultPoolSize;
    if (!Number.isSafeInteger(poolSize) || poolSize < 1)
      throw new InvalidInputError('poolSize', 'must be a positive integer');
    const pool = new pg.Pool({
      connectionString: config.connectionString,
      max: poolSize,
      application_name: config.applicationName ?? 'ordo',
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
    });
    // An idle connection that dies (server restart, terminated backend) is dropped from the
    // pool and replaced on next use; without a listener the error would crash the process.
    pool.on('error', () => {});
    // A checked-out connection has no pool listener (pg-pool removes it at checkout): when the
    // server drops it between statements, or twice in a row during pool.query, the unheard
    // 'error' event would crash the process. The statement in flight still rejects (and becomes
    // StoreUnavailableError); the pool discards the broken client.
    pool.on('connect', (client) => client.on('error', () => {}));
    connection = pool;
    ownsConnection = true;
  }
  if (config.notify && !(ownsConnection && config.connectionString)) {
    throw new InvalidInputError(
      'notify',
      'needs connectionString (the store opens its own listening connection)',
    );
  }
  const notifier = new Notifier();
  let notifications: PostgresNotifications | undefined;
  try {
    if (config.migrate !== false) await migrateSchema(connection, schema);
    if (config.notify) {
      notifications = new PostgresNotifications(
        connection as pg.Pool,
        config.connectionString!,
        schema,
        notifier,
      );
      await notifications.start().catch((error: unknown) => {
        throw toStoreError(error, 'listening for notifications');
      });
    }
  } catch (error) {
    await notifications?.close();
    if (ownsConnection) await (connection as pg.Pool).end().catch(() => {});
    throw error;
  }
  const shared: PostgresSharedState = {
    connection,
    schema,
    hooks: new Map(),
    notifier,
    visibilityWaitMs,
    ...(notifications ? { notifications } : {}),
    pollIntervalMs,
    ownsConnection,
    sql: statements(schema),
  };
  return new DriverEventStore(new PostgresDriver(namespace, shared, true));
}
