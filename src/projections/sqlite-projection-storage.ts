import type { Database, Statement } from 'better-sqlite3';
import { LeaseLostError } from './projection-errors.js';
import type {
  ActiveSlot,
  CheckpointRecord,
  Lease,
  ProjectionStorage,
  SlotCommit,
} from './projection-storage.js';

type CheckpointRow = [string, string, number, string, number];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS projection_checkpoints (
  namespace TEXT NOT NULL, slot TEXT NOT NULL, position TEXT NOT NULL, state TEXT NOT NULL,
  processed INTEGER NOT NULL, diagnostics TEXT NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, slot)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS projection_documents (
  namespace TEXT NOT NULL, slot TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (namespace, slot, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS projection_active (
  namespace TEXT NOT NULL, name TEXT NOT NULL, generation INTEGER NOT NULL, version INTEGER NOT NULL,
  PRIMARY KEY (namespace, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS projection_leases (
  namespace TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL, token INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, key)) WITHOUT ROWID;
`;

/**
 * Projection storage in the store's own SQLite file: documents, checkpoints, active-generation
 * pointers and leases are tables next to the events. A runner's commit is one `BEGIN IMMEDIATE`
 * transaction that first checks the lease's fencing token, so a runner whose lease was taken over
 * can never write again. Leases are rows (owner, token, expiry) updated under the same write lock.
 */
export class SqliteProjectionStorage implements ProjectionStorage {
  readonly #db: Database;
  readonly #ns: string;
  #statements: ReturnType<typeof prepare> | undefined;

  constructor(db: Database, namespace: string) {
    this.#db = db;
    this.#ns = namespace;
  }

  async init(): Promise<void> {
    if (this.#statements) return;
    // CREATE IF NOT EXISTS under the write lock: safe when several processes start at once.
    this.#db.transaction(() => this.#db.exec(SCHEMA)).immediate();
    this.#statements = prepare(this.#db);
  }

  get #s(): ReturnType<typeof prepare> {
    if (!this.#statements) this.#statements = prepare(this.#db);
    return this.#statements;
  }

  async readCheckpoint(slot: string): Promise<CheckpointRecord | null> {
    return this.#readCheckpoint(slot);
  }

  #readCheckpoint(slot: string): CheckpointRecord | null {
    const row = this.#s.checkpoint.get(this.#ns, slot);
    if (!row) return null;
    return { position: row[0], state: row[1], processed: row[2], parked: row[3], updatedAt: row[4] };
  }

  async readDocument(slot: string, id: string): Promise<string | undefined> {
    return this.#s.document.get(this.#ns, slot, id);
  }

  readDocumentSync(slot: string, id: string): string | undefined {
    return this.#s.document.get(this.#ns, slot, id);
  }

  async listDocuments(
    slot: string,
    options: { after?: string; limit: number },
  ): Promise<Array<{ id: string; doc: string }>> {
    const rows = this.#s.documents.all(this.#ns, slot, options.after ?? '', options.limit);
    return rows.map(([id, doc]) => ({ id, doc }));
  }

  async commit(slot: string, commit: SlotCommit): Promise<void> {
    this.#db
      .transaction(() => {
        if (commit.lease) this.#checkFence(commit.lease);
        this.#write(slot, commit);
      })
      .immediate();
  }

  /** Used by inline projections inside the append's (already open) transaction. */
  readonly sync = {
    readCheckpoint: (slot: string) => this.#readCheckpoint(slot),
    commit: (slot: string, commit: SlotCommit) => this.#write(slot, commit),
  };

  #write(slot: string, commit: SlotCommit): void {
    const s = this.#s;
    for (const [id, doc] of commit.documents) {
      if (doc === null) s.deleteDocument.run(this.#ns, slot, id);
      else s.putDocument.run(this.#ns, slot, id, doc);
    }
    const c = commit.checkpoint;
    s.putCheckpoint.run(this.#ns, slot, c.position, c.state, c.processed, c.parked, c.updatedAt);
  }

  #checkFence(lease: Lease): void {
    const row = this.#s.lease.get(this.#ns, lease.key);
    if (!row || row[0] !== lease.owner || row[1] !== lease.token) throw new LeaseLostError(lease.key);
  }

  async readActive(name: string): Promise<ActiveSlot | null> {
    const row = this.#s.active.get(this.#ns, name);
    return row ? { generation: row[0], version: row[1] } : null;
  }

  async activate(name: string, active: ActiveSlot): Promise<void> {
    this.#s.putActive.run(this.#ns, name, active.generation, active.version);
  }

  async dropSlot(slot: string): Promise<void> {
    this.#db
      .transaction(() => {
        this.#s.dropDocuments.run(this.#ns, slot);
        this.#s.dropCheckpoint.run(this.#ns, slot);
      })
      .immediate();
  }

  async acquireLease(key: string, owner: string, ttlMs: number): Promise<Lease | null> {
    return this.#db
      .transaction((): Lease | null => {
        const now = Date.now();
        const row = this.#s.lease.get(this.#ns, key);
        if (row && row[0] !== owner && row[2] > now) return null;
        const token = !row ? 1 : row[0] === owner ? row[1] : row[1] + 1;
        this.#s.putLease.run(this.#ns, key, owner, token, now + ttlMs);
        return { key, owner, token };
      })
      .immediate();
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    const info = this.#s.renewLease.run(Date.now() + ttlMs, this.#ns, lease.key, lease.owner, lease.token);
    return info.changes === 1;
  }

  async releaseLease(lease: Lease): Promise<void> {
    // Expire, keep the token: the next holder increments it, fencing this one off.
    this.#s.renewLease.run(0, this.#ns, lease.key, lease.owner, lease.token);
  }
}

function prepare(db: Database) {
  return {
    checkpoint: db
      .prepare<[string, string], CheckpointRow>(
        'SELECT position, state, processed, diagnostics, updated_at FROM projection_checkpoints WHERE namespace = ? AND slot = ?',
      )
      .raw(true),
    putCheckpoint: db.prepare(
      `INSERT INTO projection_checkpoints (namespace, slot, position, state, processed, diagnostics, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (namespace, slot) DO UPDATE SET position = excluded.position,
       state = excluded.state, processed = excluded.processed, diagnostics = excluded.diagnostics, updated_at = excluded.updated_at`,
    ),
    document: db
      .prepare<[string, string, string], string>(
        'SELECT doc FROM projection_documents WHERE namespace = ? AND slot = ? AND id = ?',
      )
      .pluck() as Statement<[string, string, string], string>,
    documents: db
      .prepare<[string, string, string, number], [string, string]>(
        'SELECT id, doc FROM projection_documents WHERE namespace = ? AND slot = ? AND id > ? ORDER BY id LIMIT ?',
      )
      .raw(true),
    putDocument: db.prepare(
      `INSERT INTO projection_documents (namespace, slot, id, doc) VALUES (?, ?, ?, ?)
       ON CONFLICT (namespace, slot, id) DO UPDATE SET doc = excluded.doc`,
    ),
    deleteDocument: db.prepare(
      'DELETE FROM projection_documents WHERE namespace = ? AND slot = ? AND id = ?',
    ),
    dropDocuments: db.prepare('DELETE FROM projection_documents WHERE namespace = ? AND slot = ?'),
    dropCheckpoint: db.prepare('DELETE FROM projection_checkpoints WHERE namespace = ? AND slot = ?'),
    active: db
      .prepare<[string, string], [number, number]>(
        'SELECT generation, version FROM projection_active WHERE namespace = ? AND name = ?',
      )
      .raw(true),
    putActive: db.prepare(
      `INSERT INTO projection_active (namespace, name, generation, version) VALUES (?, ?, ?, ?)
       ON CONFLICT (namespace, name) DO UPDATE SET generation = excluded.generation, version = excluded.version`,
    ),
    lease: db
      .prepare<[string, string], [string, number, number]>(
        'SELECT owner, token, expires_at FROM projection_leases WHERE namespace = ? AND key = ?',
      )
      .raw(true),
    putLease: db.prepare(
      `INSERT INTO projection_leases (namespace, key, owner, token, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (namespace, key) DO UPDATE SET owner = excluded.owner, token = excluded.token, expires_at = excluded.expires_at`,
    ),
    renewLease: db.prepare(
      'UPDATE projection_leases SET expires_at = ? WHERE namespace = ? AND key = ? AND owner = ? AND token = ?',
    ),
  };
}
