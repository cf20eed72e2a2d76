import pg from 'pg';
import { isConnectionError, isDatabaseError, toStoreError } from '../backends/postgres/postgres-errors.js';
import { StoreUnavailableError } from '../core/errors.js';
import { LeaseLostError } from './projection-errors.js';
import type {
  ActiveSlot,
  CheckpointRecord,
  Lease,
  ProjectionStorage,
  SlotCommit,
} from './projection-storage.js';

type Connection = pg.Pool | pg.ClientBase;

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function schemaSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.projection_checkpoints (
  namespace text NOT NULL, slot text NOT NULL, position text NOT NULL, state text NOT NULL,
  processed bigint NOT NULL, diagnostics text NOT NULL, updated_at bigint NOT NULL,
  PRIMARY KEY (namespace, slot));
CREATE TABLE IF NOT EXISTS ${s}.projection_documents (
  namespace text NOT NULL, slot text NOT NULL, id text COLLATE "C" NOT NULL, doc text NOT NULL,
  PRIMARY KEY (namespace, slot, id));
CREATE TABLE IF NOT EXISTS ${s}.projection_active (
  namespace text NOT NULL, name text NOT NULL, generation integer NOT NULL, version integer NOT NULL,
  PRIMARY KEY (namespace, name));
CREATE TABLE IF NOT EXISTS ${s}.projection_leases (
  namespace text NOT NULL, key text NOT NULL, owner text NOT NULL, token bigint NOT NULL,
  PRIMARY KEY (namespace, key));`;
}

/**
 * Projection storage in the store's PostgreSQL schema. A runner's commit is one transaction that
 * first locks the lease row and compares the fencing token. Leases are session-level advisory
 * locks held on one dedicated connection per storage: when a runner's process dies, PostgreSQL
 * drops its connection and the lock with it, and the next holder increments the token in the
 * lease row, so a stale runner's later commits are refused.
 */
export class PostgresProjectionStorage implements ProjectionStorage {
  readonly #connection: Connection;
  readonly #schema: string;
  readonly #ns: string;
  readonly #sql: ReturnType<typeof statements>;
  /** Advisory locks held by this storage, by lease key → owner (locks are re-entrant per session). */
  readonly #held = new Map<string, string>();
  #leaseClient: Promise<pg.Client> | undefined;
  #leaseClientBroken = false;

  constructor(connection: Connection, schema: string, namespace: string) {
    this.#connection = connection;
    this.#schema = schema;
    this.#ns = namespace;
    this.#sql = statements(quote(schema));
  }

  async init(): Promise<void> {
    await this.#transaction(async (client) => {
      // Serializes concurrent first starts: CREATE IF NOT EXISTS alone races in PostgreSQL.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('ordo.projections.schema'))");
      await client.query(schemaSql(quote(this.#schema)));
    });
  }

  async readCheckpoint(slot: string, transaction?: unknown): Promise<CheckpointRecord | null> {
    const client = asClient(transaction);
    // Inline projections: serialize concurrent appends on this slot until their commit.
    if (client)
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [this.#ns, slot]);
    const { rows } = await this.#query<{
      position: string;
      state: string;
      processed: string;
      diagnostics: string;
      updated_at: string;
    }>(this.#sql.checkpoint, [this.#ns, slot], client);
    const row = rows[0];
    if (!row) return null;
    return {
      position: row.position,
      state: row.state,
      processed: Number(row.processed),
      parked: row.diagnostics,
      updatedAt: Number(row.updated_at),
    };
  }

  async readDocument(slot: string, id: string, transaction?: unknown): Promise<string | undefined> {
    const { rows } = await this.#query<{ doc: string }>(
      this.#sql.document,
      [this.#ns, slot, id],
      asClient(transaction),
    );
    return rows[0]?.doc;
  }

  async listDocuments(
    slot: string,
    options: { after?: string; limit: number },
  ): Promise<Array<{ id: string; doc: string }>> {
    const { rows } = await this.#query<{ id: string; doc: string }>(this.#sql.documents, [
      this.#ns,
      slot,
      options.after ?? '',
      options.limit,
    ]);
    return rows;
  }

  async commit(slot: string, commit: SlotCommit, transaction?: unknown): Promise<void> {
    const client = asClient(transaction);
    if (client) return this.#write(client, slot, commit);
    await this.#transaction(async (tx) => {
      if (commit.lease) {
        const { rows } = await tx.query<{ owner: string; token: string }>(this.#sql.lockLease, [
          this.#ns,
          commit.lease.key,
        ]);
        const row = rows[0];
        if (!row || row.owner !== commit.lease.owner || Number(row.token) !== commit.lease.token) {
          throw new LeaseLostError(commit.lease.key);
        }
      }
      await this.#write(tx, slot, commit);
    });
  }

  async #write(client: pg.ClientBase, slot: string, commit: SlotCommit): Promise<void> {
    const putIds: string[] = [];
    const putDocs: string[] = [];
    const deleteIds: string[] = [];
    for (const [id, doc] of commit.documents) {
      if (doc === null) deleteIds.push(id);
      else {
        putIds.push(id);
        putDocs.push(doc);
      }
    }
    if (deleteIds.length > 0) await client.query(this.#sql.deleteDocuments, [this.#ns, slot, deleteIds]);
    if (putIds.length > 0) await client.query(this.#sql.putDocuments, [this.#ns, slot, putIds, putDocs]);
    const c = commit.checkpoint;
    await client.query(this.#sql.putCheckpoint, [
      this.#ns,
      slot,
      c.position,
      c.state,
      c.processed,
      c.parked,
      c.updatedAt,
    ]);
  }

  async readActive(name: string): Promise<ActiveSlot | null> {
    const { rows } = await this.#query<{ generation: number; version: number }>(this.#sql.active, [
      this.#ns,
      name,
    ]);
    return rows[0] ? { generation: rows[0].generation, version: rows[0].version } : null;
  }

  async activate(name: string, active: ActiveSlot): Promise<void> {
    await this.#query(this.#sql.putActive, [this.#ns, name, active.generation, active.version]);
  }

  async dropSlot(slot: string): Promise<void> {
    await this.#transaction(async (tx) => {
      await tx.query(this.#sql.dropDocuments, [this.#ns, slot]);
      await tx.query(this.#sql.dropCheckpoint, [this.#ns, slot]);
    });
  }

  async acquireLease(key: string, owner: string, _ttlMs: number): Promise<Lease | null> {
    const holder = this.#held.get(key);
    if (holder !== undefined && holder !== owner) return null;
    const client = await this.#lockClient();
    if (holder === undefined) {
      const { rows } = await this.#query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS locked',
        [this.#ns, key],
        client,
      );
      if (!rows[0]?.locked) return null;
      this.#held.set(key, owner);
    }
    const { rows } = await this.#query<{ token: string }>(this.#sql.takeLease, [this.#ns, key, owner]);
    return { key, owner, token: Number(rows[0]!.token) };
  }

  async renewLease(lease: Lease): Promise<boolean> {
    if (this.#held.get(lease.key) !== lease.owner || this.#leaseClientBroken) return false;
    try {
      // The lock lives as long as the dedicated connection: check that it is still there.
      await (await this.#lockClient()).query('SELECT 1');
    } catch {
      return false;
    }
    const { rows } = await this.#query<{ owner: string; token: string }>(this.#sql.readLease, [
      this.#ns,
      lease.key,
    ]);
    return rows[0]?.owner === lease.owner && Number(rows[0].token) === lease.token;
  }

  async releaseLease(lease: Lease): Promise<void> {
    if (this.#held.get(lease.key) !== lease.owner) return;
    this.#held.delete(lease.key);
    if (this.#leaseClientBroken) return;
    const client = await this.#lockClient();
    await client.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', [this.#ns, lease.key]);
  }

  /** Closes the dedicated lease connection (releasing every advisory lock of this storage). */
  async close(): Promise<void> {
    const client = this.#leaseClient;
    this.#leaseClient = undefined;
    this.#held.clear();
    if (client) await (await client).end().catch(() => {});
  }

  #lockClient(): Promise<pg.Client> {
    if (this.#leaseClientBroken) {
      this.#leaseClientBroken = false;
      this.#leaseClient = undefined;
      this.#held.clear();
    }
    if (!this.#leaseClient) {
      const options = (this.#connection as pg.Pool).options ?? {};
      const client = new pg.Client({
        ...options,
        application_name: 'ordo-projection-leases',
      } as pg.ClientConfig);
      client.on('error', () => {
        // The server dropped us: every lock of this session is gone.
        this.#leaseClientBroken = true;
      });
      this.#leaseClient = client.connect().then(
        () => client,
        (error: unknown) => {
          this.#leaseClient = undefined;
          throw new StoreUnavailableError('cannot open the projection lease connection', { cause: error });
        },
      );
      // Let a process exit even if nobody closes the storage.
      this.#leaseClient
        .then((c) =>
          (
            c as unknown as { connection?: { stream?: { unref?: () => void } } }
          ).connection?.stream?.unref?.(),
        )
        .catch(() => {});
    }
    return this.#leaseClient;
  }

  async #transaction<T>(fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    const pooled = this.#connection instanceof pg.Pool;
    let client: pg.ClientBase;
    try {
      client = pooled ? await (this.#connection as pg.Pool).connect() : (this.#connection as pg.ClientBase);
    } catch (error) {
      throw storeError(error);
    }
    // A checked-out client has no pool listener: without one, a connection the server drops
    // between two statements is an uncaught 'error' event that ends the process.
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken = error;
    };
    if (pooled) client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (isConnectionError(error)) broken ??= error as Error;
      if (!broken) await client.query('ROLLBACK').catch(() => {});
      throw storeError(error);
    } finally {
      if (pooled) {
        client.off('error', onError);
        // A broken connection is destroyed instead of going back to the pool.
        (client as pg.PoolClient).release(broken);
      }
    }
  }

  /** One statement on `client` or the pool; database and connection errors become `StoreUnavailableError`. */
  async #query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values: unknown[],
    client?: pg.ClientBase,
  ): Promise<pg.QueryResult<R>> {
    try {
      return await (client ?? this.#connection).query<R>(text, values);
    } catch (error) {
      throw storeError(error);
    }
  }
}

/** Database and connection errors become `StoreUnavailableError` (cause kept); others pass through. */
function storeError(error: unknown): unknown {
  return isDatabaseError(error) ? toStoreError(error, 'projection storage') : error;
}

function asClient(transaction: unknown): pg.ClientBase | undefined {
  return transaction instanceof pg.Client || (transaction as { query?: unknown } | undefined)?.query
    ? (transaction as pg.ClientBase)
    : undefined;
}

function statements(s: string) {
  return {
    checkpoint: `SELECT position, state, processed, diagnostics, updated_at FROM ${s}.projection_checkpoints WHERE namespace = $1 AND slot = $2`,
    putCheckpoint: `INSERT INTO ${s}.projection_checkpoints (namespace, slot, position, state, processed, diagnostics, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (namespace, slot) DO UPDATE SET position = excluded.position,
      state = excluded.state, processed = excluded.processed, diagnostics = excluded.diagnostics, updated_at = excluded.updated_at`,
    document: `SELECT doc FROM ${s}.projection_documents WHERE namespace = $1 AND slot = $2 AND id = $3`,
    documents: `SELECT id, doc FROM ${s}.projection_documents WHERE namespace = $1 AND slot = $2 AND id > $3 ORDER BY id LIMIT $4`,
    putDocuments: `INSERT INTO ${s}.projection_documents (namespace, slot, id, doc)
      SELECT $1, $2, id, doc FROM unnest($3::text[], $4::text[]) AS t (id, doc)
      ON CONFLICT (namespace, slot, id) DO UPDATE SET doc = excluded.doc`,
    deleteDocuments: `DELETE FROM ${s}.projection_documents WHERE namespace = $1 AND slot = $2 AND id = ANY ($3::text[])`,
    dropDocuments: `DELETE FROM ${s}.projection_documents WHERE namespace = $1 AND slot = $2`,
    dropCheckpoint: `DELETE FROM ${s}.projection_checkpoints WHERE namespace = $1 AND slot = $2`,
    active: `SELECT generation, version FROM ${s}.projection_active WHERE namespace = $1 AND name = $2`,
    putActive: `INSERT INTO ${s}.projection_active (namespace, name, generation, version) VALUES ($1, $2, $3, $4)
      ON CONFLICT (namespace, name) DO UPDATE SET generation = excluded.generation, version = excluded.version`,
    readLease: `SELECT owner, token FROM ${s}.projection_leases WHERE namespace = $1 AND key = $2`,
    lockLease: `SELECT owner, token FROM ${s}.projection_leases WHERE namespace = $1 AND key = $2 FOR SHARE`,
    // A new owner increments the fencing token; the same owner re-taking keeps it.
    takeLease: `INSERT INTO ${s}.projection_leases (namespace, key, owner, token) VALUES ($1, $2, $3, 1)
      ON CONFLICT (namespace, key) DO UPDATE SET owner = excluded.owner,
      token = CASE WHEN ${s}.projection_leases.owner = excluded.owner THEN ${s}.projection_leases.token ELSE ${s}.projection_leases.token + 1 END
      RETURNING token`,
  };
}
