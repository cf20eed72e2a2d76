import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import BetterSqlite3 from 'better-sqlite3';
import type {
  AppendHook,
  DriverReadAllOptions,
  EventStoreDriver,
  PreparedAppend,
  StoredRecord,
  StoredSnapshotRecord,
} from '../../core/driver.js';
import { DuplicateEventIdError } from '../../core/driver.js';
import { DriverEventStore, driverOf } from '../../core/driver-event-store.js';
import {
  AppendConditionError,
  InvalidInputError,
  OrdoError,
  StoreClosedError,
  StoreUnavailableError,
  VersionConflictError,
} from '../../core/errors.js';
import { versionMatches } from '../../core/expected-version.js';
import { Notifier } from '../../core/notifier.js';
import { START } from '../../core/position.js';
import type { AppendResult, EventQuery, EventStore, Position, StoreCapabilities } from '../../core/types.js';
import { assertNamespace } from '../../core/validation.js';
import type { SqliteStoreConfig } from './sqlite-config.js';
import type { SqlParam as Param } from './sqlite-queries.js';
import { positionAfter, sqlForFilteredPage, sqlForMatchingPositions } from './sqlite-queries.js';
import { migrateSqlite, TAG_SEPARATOR } from './sqlite-schema.js';

type Row = [number, string, number, string, string, string, string, string, number];

const RECORD_COLUMNS = 'position, stream_id, version, event_id, type, data, metadata, tags, timestamp';
const MAX_CACHED_QUERIES = 256;

/** Statements prepared once per connection: every hot path is a single cached statement. */
class Statements {
  readonly streamVersion: Statement<[string, string], number>;
  readonly stream: Statement<[string, string], [number, number]>;
  readonly createStream: Statement<[string, string, number]>;
  readonly saveVersion: Statement<[number, number]>;
  readonly insertEvent: Statement<Param[]>;
  readonly insertTag: Statement<[string, string, number]>;
  readonly readForwards: Statement<Param[], Row>;
  readonly readBackwards: Statement<Param[], Row>;
  readonly findByIds: Statement<[string, string, string], Row>;
  readonly readAll: Statement<[string, number, number], Row>;
  readonly head: Statement<[string], number | null>;
  readonly saveSnapshot: Statement<Param[]>;
  readonly loadSnapshot: Statement<[string, string], [number, string, string, number]>;
  readonly corrupt: Statement<[string, number, string, string]>;
  readonly #queries = new Map<string, Statement<Param[], Row | number>>();

  constructor(readonly db: Database) {
    this.streamVersion = db
      .prepare<[string, string], number>('SELECT version FROM streams WHERE namespace = ? AND stream_id = ?')
      .pluck();
    this.stream = db
      .prepare<[string, string], [number, number]>(
        'SELECT stream_key, version FROM streams WHERE namespace = ? AND stream_id = ?',
      )
      .raw(true);
    this.createStream = db.prepare('INSERT INTO streams (namespace, stream_id, version) VALUES (?, ?, ?)');
    this.saveVersion = db.prepare('UPDATE streams SET version = ? WHERE stream_key = ?');
    this.insertEvent = db.prepare(
      `INSERT INTO events (namespace, stream_key, stream_id, version, event_id, type, data, metadata, tags, timestamp)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertTag = db.prepare('INSERT INTO event_tags (namespace, tag, position) VALUES (?, ?, ?)');
    this.readForwards = db
      .prepare<Param[], Row>(
        `SELECT ${RECORD_COLUMNS} FROM events WHERE stream_key = (SELECT stream_key FROM streams WHERE namespace = ? AND stream_id = ?) AND version >= ? AND version <= ?
         ORDER BY version LIMIT ?`,
      )
      .raw(true);
    this.readBackwards = db
      .prepare<Param[], Row>(
        `SELECT ${RECORD_COLUMNS} FROM events WHERE stream_key = (SELECT stream_key FROM streams WHERE namespace = ? AND stream_id = ?) AND version <= ? AND version >= ?
         ORDER BY version DESC LIMIT ?`,
      )
      .raw(true);
    this.findByIds = db
      .prepare<[string, string, string], Row>(
        `SELECT ${RECORD_COLUMNS} FROM events WHERE stream_key = (SELECT stream_key FROM streams WHERE namespace = ? AND stream_id = ?)
         AND event_id IN (SELECT value FROM json_each(?)) ORDER BY version`,
      )
      .raw(true);
    this.readAll = db
      .prepare<[string, number, number], Row>(
        `SELECT ${RECORD_COLUMNS} FROM events WHERE namespace = ? AND position > ? ORDER BY position LIMIT ?`,
      )
      .raw(true);
    this.head = db
      .prepare<[string], number | null>('SELECT max(position) FROM events WHERE namespace = ?')
      .pluck();
    this.saveSnapshot = db.prepare(
      `INSERT INTO snapshots (namespace, stream_id, version, state, schema, timestamp) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (namespace, stream_id) DO UPDATE SET
         version = excluded.version, state = excluded.state, schema = excluded.schema, timestamp = excluded.timestamp`,
    );
    this.loadSnapshot = db
      .prepare<[string, string], [number, string, string, number]>(
        'SELECT version, state, schema, timestamp FROM snapshots WHERE namespace = ? AND stream_id = ?',
      )
      .raw(true);
    this.corrupt = db.prepare(
      `UPDATE events SET data = ? WHERE version = ?
       AND stream_key = (SELECT stream_key FROM streams WHERE namespace = ? AND stream_id = ?)`,
    );
  }

  /** Statements whose text depends on the query shape, cached by text (bounded). */
  query(sql: string): Statement<Param[], Row | number> {
    let statement = this.#queries.get(sql);
    if (!statement) {
      if (this.#queries.size >= MAX_CACHED_QUERIES) this.#queries.clear();
      statement = this.db.prepare<Param[], Row | number>(sql);
      this.#queries.set(sql, statement);
    }
    return statement;
  }
}

/** One open database file, shared by the drivers of all its namespaces. */
interface Connection {
  db: Database;
  statements: Statements;
  notifier: Notifier;
  releaseNotifier: () => void;
  capabilities: StoreCapabilities;
  pollIntervalMs: number;
  /** Inline-projection hooks by namespace, run inside each append's transaction. */
  hooks: Map<string, Set<AppendHook>>;
  /** Appends waiting for the next group commit (flushed in a microtask). */
  pending: PendingAppend[];
  /** Runs one append in its own `BEGIN IMMEDIATE` transaction. */
  commitOne: (run: () => AppendResult) => AppendResult;
  /** Runs several appends in one `BEGIN IMMEDIATE` transaction, each inside its own savepoint. */
  commitGroup: (items: PendingAppend[]) => void;
  closed: boolean;
}

interface PendingAppend {
  run: () => AppendResult;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
  result?: AppendResult;
  error?: unknown;
  failed?: boolean;
}

function prepareCommits(db: Database): Pick<Connection, 'commitOne' | 'commitGroup'> {
  // Nested in an open transaction, better-sqlite3 runs this as a savepoint: one append's failure
  // rolls back that append only.
  const savepoint = db.transaction((run: () => AppendResult) => run());
  const group = db.transaction((items: PendingAppend[]) => {
    for (const item of items) {
      try {
        item.result = savepoint(item.run);
      } catch (error) {
        item.error = error;
        item.failed = true;
      }
    }
  });
  return {
    commitOne: db.transaction((run: () => AppendResult) => run()).immediate,
    commitGroup: group.immediate,
  };
}

/**
 * Group commit: appends issued by this process while another is being prepared share one write
 * transaction and one sync of the log, each still checked and applied on its own (savepoint).
 * A promise settles only after the commit, so an acknowledged append is as durable as alone.
 */
function flush(connection: Connection): void {
  const items = connection.pending;
  if (items.length === 0) return;
  connection.pending = [];
  if (connection.closed) {
    for (const item of items) item.reject(new StoreClosedError());
    return;
  }
  try {
    if (items.length === 1) items[0]!.result = connection.commitOne(items[0]!.run);
    else connection.commitGroup(items);
  } catch (error) {
    // Nothing of the group was committed.
    const failure = translate(error, connection);
    for (const item of items) item.reject(item.failed ? translate(item.error, connection) : failure);
    return;
  }
  let committed = false;
  for (const item of items) {
    if (item.failed) item.reject(translate(item.error, connection));
    else {
      committed = true;
      item.resolve(item.result!);
    }
  }
  if (committed) connection.notifier.notify();
}

// Connections of one process to the same file share a notifier, so a subscription wakes up
// right after an append through any of them; other processes are seen by polling.
const notifiers = new Map<string, { notifier: Notifier; users: number }>();

function acquireNotifier(key: string | undefined): { notifier: Notifier; release: () => void } {
  if (key === undefined) return { notifier: new Notifier(), release: () => {} };
  let entry = notifiers.get(key);
  if (!entry) {
    entry = { notifier: new Notifier(), users: 0 };
    notifiers.set(key, entry);
  }
  entry.users += 1;
  const found = entry;
  return {
    notifier: found.notifier,
    release: () => {
      found.users -= 1;
      if (found.users === 0 && notifiers.get(key) === found) notifiers.delete(key);
    },
  };
}

function toRecord(row: Row): StoredRecord {
  return {
    streamId: row[1],
    version: row[2],
    position: String(row[0]),
    id: row[3],
    type: row[4],
    data: row[5],
    metadata: row[6],
    tags: row[7] === '' ? [] : row[7].split(TAG_SEPARATOR),
    timestamp: row[8],
  };
}

function toRecords(rows: Row[]): StoredRecord[] {
  const records = new Array<StoredRecord>(rows.length);
  for (let i = 0; i < rows.length; i++) records[i] = toRecord(rows[i]!);
  return records;
}

function isUniqueViolation(error: unknown, index: string): boolean {
  if (!(error instanceof BetterSqlite3.SqliteError)) return false;
  return error.code === 'SQLITE_CONSTRAINT_UNIQUE' && error.message.includes(index);
}

/** Maps backend failures to the project's errors; errors the store raised on purpose pass through. */
function translate(error: unknown, connection: Connection): unknown {
  if (error instanceof OrdoError || error instanceof DuplicateEventIdError) return error;
  if (connection.closed || (error instanceof TypeError && !connection.db.open)) return new StoreClosedError();
  if (error instanceof BetterSqlite3.SqliteError) {
    const busy = error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED');
    return new StoreUnavailableError(
      busy
        ? `SQLite database is locked by another connection (${error.code})`
        : `SQLite error ${error.code}: ${error.message}`,
      { cause: error },
    );
  }
  return error;
}

/**
 * Event store driver over one SQLite file. Appends run in `BEGIN IMMEDIATE` transactions, so the
 * version check, the condition check and the writes happen under SQLite's single write lock and
 * hold across processes; positions are the events table's integer primary key, assigned in
 * commit order. Concurrent appends of this process are group-committed (one savepoint each).
 */
export class SqliteDriver implements EventStoreDriver {
  readonly #connection: Connection;
  readonly #owner: boolean;

  constructor(
    readonly namespace: string,
    connection: Connection,
    owner: boolean,
  ) {
    this.#connection = connection;
    this.#owner = owner;
  }

  get capabilities(): StoreCapabilities {
    return this.#connection.capabilities;
  }

  get pollIntervalMs(): number {
    return this.#connection.pollIntervalMs;
  }

  /** The underlying better-sqlite3 connection (for components of this package that keep their tables in the same file). */
  get database(): Database {
    return this.#connection.db;
  }

  #run<T>(fn: (statements: Statements) => T): T {
    const connection = this.#connection;
    if (connection.closed) throw new StoreClosedError();
    try {
      return fn(connection.statements);
    } catch (error) {
      throw translate(error, connection);
    }
  }

  append(append: PreparedAppend): Promise<AppendResult> {
    const connection = this.#connection;
    if (connection.closed) return Promise.reject(new StoreClosedError());
    return new Promise<AppendResult>((resolve, reject) => {
      connection.pending.push({ run: () => this.#appendInTransaction(append), resolve, reject });
      if (connection.pending.length === 1) queueMicrotask(() => flush(connection));
    });
  }

  #appendInTransaction(append: PreparedAppend): AppendResult {
    const s = this.#connection.statements;
    const ns = this.namespace;
    const { streamId, events, expectedVersion, condition } = append;
    const stream = s.stream.get(ns, streamId);
    const current = stream ? stream[1] : 0;
    if (!versionMatches(expectedVersion, current))
      throw new VersionConflictError(streamId, expectedVersion, current);
    if (condition) {
      const matching = this.#firstMatch(condition.queries, condition.after ?? START);
      if (matching !== undefined) {
        throw new AppendConditionError(
          streamId,
          { failIfEventsMatch: condition.queries, ...(condition.after ? { after: condition.after } : {}) },
          String(matching),
        );
      }
    }
    const timestamp = append.timestamp.getTime();
    const hooks = this.#connection.hooks.get(ns);
    const records: StoredRecord[] | undefined = hooks && hooks.size > 0 ? [] : undefined;
    const lastVersion = current + events.length;
    let streamKey: number;
    if (stream) {
      streamKey = stream[0];
      s.saveVersion.run(lastVersion, streamKey);
    } else {
      streamKey = Number(s.createStream.run(ns, streamId, lastVersion).lastInsertRowid);
    }
    let position = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      try {
        const info = s.insertEvent.run(
          ns,
          streamKey,
          streamId,
          current + i + 1,
          event.id,
          event.type,
          event.data,
          event.metadata,
          event.tags.join(TAG_SEPARATOR),
          timestamp,
        );
        position = Number(info.lastInsertRowid);
      } catch (error) {
        if (isUniqueViolation(error, 'event_id'))
          throw new DuplicateEventIdError(streamId, event.id, { cause: error });
        // Cannot happen while the write lock is held, but the constraint is the last line of defence.
        if (isUniqueViolation(error, 'version')) {
          throw new VersionConflictError(streamId, expectedVersion, current, { cause: error });
        }
        throw error;
      }
      for (const tag of event.tags) s.insertTag.run(ns, tag, position);
      records?.push({
        streamId,
        version: current + i + 1,
        position: String(position),
        id: event.id,
        type: event.type,
        data: event.data,
        metadata: event.metadata,
        tags: event.tags,
        timestamp,
      });
    }
    if (records) {
      for (const hook of hooks!) {
        const result = hook({ append, records, transaction: this.#connection.db });
        if (result && typeof (result as Promise<void>).then === 'function') {
          // The SQLite transaction is synchronous: work after an await would run outside it.
          (result as Promise<void>).catch(() => {});
          throw new InvalidInputError(
            'appendHook',
            'must finish synchronously on SQLite (it returned a promise)',
          );
        }
      }
    }
    return { streamId, firstVersion: current + 1, lastVersion, position: String(position) };
  }

  /** Position of some event matching any of the queries after `after`, using the type/tag indexes. */
  #firstMatch(queries: EventQuery[], after: Position): number | undefined {
    const parts = queries.map((q) => sqlForMatchingPositions(q, this.namespace, positionAfter(after)));
    const sql = `${parts.map((p) => p.sql).join(' UNION ALL ')} LIMIT 1`;
    const statement = this.#connection.statements.query(sql);
    return statement.pluck(true).get(...parts.flatMap((p) => p.params)) as number | undefined;
  }

  async readStream(
    streamId: string,
    options: { fromVersion: number; toVersion?: number; limit: number; direction: 'forwards' | 'backwards' },
  ): Promise<StoredRecord[]> {
    return this.#run((s) => {
      const { fromVersion, toVersion, limit, direction } = options;
      const rows =
        direction === 'forwards'
          ? s.readForwards.all(
              this.namespace,
              streamId,
              fromVersion,
              toVersion ?? Number.MAX_SAFE_INTEGER,
              limit,
            )
          : s.readBackwards.all(this.namespace, streamId, fromVersion, toVersion ?? 1, limit);
      return toRecords(rows);
    });
  }

  async findByIds(streamId: string, ids: string[]): Promise<StoredRecord[]> {
    return this.#run((s) => toRecords(s.findByIds.all(this.namespace, streamId, JSON.stringify(ids))));
  }

  async streamVersion(streamId: string): Promise<number> {
    return this.#run((s) => s.streamVersion.get(this.namespace, streamId) ?? 0);
  }

  async readAll({ after, limit, filter }: DriverReadAllOptions): Promise<StoredRecord[]> {
    return this.#run((s) => {
      const from = positionAfter(after);
      if (!filter) return toRecords(s.readAll.all(this.namespace, from, limit));
      const page = sqlForFilteredPage(filter, this.namespace, from, limit);
      const statement = s.query(
        `SELECT ${RECORD_COLUMNS} FROM events WHERE position IN (${page.sql}) ORDER BY position`,
      );
      return toRecords(
        statement
          .pluck(false)
          .raw(true)
          .all(...page.params) as Row[],
      );
    });
  }

  async headPosition(): Promise<Position> {
    return this.#run((s) => {
      const head = s.head.get(this.namespace);
      return head === null || head === undefined ? START : String(head);
    });
  }

  async saveSnapshot(streamId: string, snapshot: StoredSnapshotRecord): Promise<void> {
    this.#run((s) =>
      s.saveSnapshot.run(
        this.namespace,
        streamId,
        snapshot.version,
        snapshot.state,
        snapshot.schema,
        snapshot.timestamp,
      ),
    );
  }

  async loadSnapshot(streamId: string): Promise<StoredSnapshotRecord | null> {
    return this.#run((s) => {
      const row = s.loadSnapshot.get(this.namespace, streamId);
      return row ? { version: row[0], state: row[1], schema: row[2], timestamp: row[3] } : null;
    });
  }

  onAppend(listener: () => void): () => void {
    return this.#connection.notifier.listen(listener);
  }

  /**
   * Registers a hook run synchronously inside every append transaction of this namespace, after
   * the checks and inserts and before the commit; its transaction handle is the better-sqlite3
   * database, so its writes commit or roll back with the append.
   */
  addAppendHook(hook: AppendHook): () => void {
    if (this.#connection.closed) throw new StoreClosedError();
    let hooks = this.#connection.hooks.get(this.namespace);
    if (!hooks) {
      hooks = new Set();
      this.#connection.hooks.set(this.namespace, hooks);
    }
    const set = hooks;
    set.add(hook);
    return () => {
      set.delete(hook);
    };
  }

  withNamespace(namespace: string): EventStoreDriver {
    assertNamespace(namespace);
    return new SqliteDriver(namespace, this.#connection, false);
  }

  /** Test hook: replaces a stored record's data with undecodable text. */
  corrupt(streamId: string, version: number, raw = '{not json'): void {
    const changes = this.#run((s) => s.corrupt.run(raw, version, this.namespace, streamId).changes);
    if (changes !== 1) throw new Error(`no record ${streamId}@${version}`);
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    if (!this.#owner || connection.closed) return;
    flush(connection);
    connection.closed = true;
    connection.releaseNotifier();
    connection.db.close();
  }
}

function validateConfig(config: SqliteStoreConfig): void {
  if (typeof config !== 'object' || config === null)
    throw new InvalidInputError('config', 'must be an object');
  if (typeof config.path !== 'string' || config.path.length === 0) {
    throw new InvalidInputError('path', "must be a file path or ':memory:'");
  }
  if (config.synchronous !== undefined && config.synchronous !== 'FULL' && config.synchronous !== 'NORMAL') {
    throw new InvalidInputError(
      'synchronous',
      `must be 'FULL' or 'NORMAL', got ${String(config.synchronous)}`,
    );
  }
  for (const field of ['busyTimeoutMs', 'pollIntervalMs'] as const) {
    const value = config[field];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new InvalidInputError(field, `must be a non-negative integer, got ${String(value)}`);
    }
  }
  if (config.namespace !== undefined) assertNamespace(config.namespace);
}

/** Switches to WAL; another process switching at the same moment can hold the lock briefly. */
function enableWal(db: Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      const busy = error instanceof BetterSqlite3.SqliteError && error.code.startsWith('SQLITE_BUSY');
      if (!busy || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

/**
 * Opens (creating if needed) an SQLite event store; the embedded default backend.
 *
 * Guarantees: every append runs in a `BEGIN IMMEDIATE` transaction in WAL mode (appends issued
 * concurrently by this process share one, each in its own savepoint), so it is atomic
 * (also when the writer is killed) and its expected version and condition are checked under the
 * database's write lock — several processes may use the same file and two racing appends on a
 * stream yield exactly one winner. Global positions are assigned in commit order, so readers never
 * see a late commit. With the default `synchronous: 'FULL'` an acknowledged append is on disk.
 * The schema is migrated automatically and idempotently on open.
 */
export async function openSqliteStore(config: SqliteStoreConfig): Promise<EventStore> {
  validateConfig(config);
  const namespace = config.namespace ?? 'default';
  const busyTimeoutMs = config.busyTimeoutMs ?? 5_000;
  const inMemory = config.path === ':memory:';
  const file = inMemory ? undefined : resolve(config.path);
  let db: Database;
  try {
    if (file) mkdirSync(dirname(file), { recursive: true });
    db = new BetterSqlite3(file ?? ':memory:', { timeout: busyTimeoutMs });
  } catch (error) {
    throw new StoreUnavailableError(`cannot open SQLite database ${config.path}`, { cause: error });
  }
  try {
    enableWal(db, busyTimeoutMs);
    db.pragma(`synchronous = ${config.synchronous ?? 'FULL'}`);
    migrateSqlite(db);
  } catch (error) {
    db.close();
    if (error instanceof OrdoError) throw error;
    throw new StoreUnavailableError(`cannot prepare SQLite database ${config.path}`, { cause: error });
  }
  const { notifier, release } = acquireNotifier(file);
  const connection: Connection = {
    db,
    statements: new Statements(db),
    notifier,
    releaseNotifier: release,
    capabilities: {
      durable: !inMemory,
      multiProcess: !inMemory,
      transactionalInline: true,
      corruptible: true,
    },
    pollIntervalMs: config.pollIntervalMs ?? 100,
    hooks: new Map(),
    pending: [],
    ...prepareCommits(db),
    closed: false,
  };
  return new DriverEventStore(new SqliteDriver(namespace, connection, true));
}

/** The SQLite driver behind a store opened by {@link openSqliteStore} (undefined for other stores). */
export function sqliteDriverOf(store: EventStore): SqliteDriver | undefined {
  const driver = driverOf(store);
  return driver instanceof SqliteDriver ? driver : undefined;
}
