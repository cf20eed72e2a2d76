import { MemoryAppendTransaction } from '../backends/memory/index.js';
import { compareIds } from './document-batch.js';
import { LeaseLostError } from './projection-errors.js';
import type {
  ActiveSlot,
  CheckpointRecord,
  Lease,
  ProjectionStorage,
  SlotCommit,
} from './projection-storage.js';

interface LeaseRow {
  owner: string;
  token: number;
  expiresAt: number;
}

/**
 * Projection storage for the memory backend: plain maps in this process. Commits are applied
 * synchronously (atomic for JavaScript); inside an append hook they are deferred to the append's
 * commit, so a failing append leaves no trace.
 */
export class MemoryProjectionStorage implements ProjectionStorage {
  readonly #checkpoints = new Map<string, CheckpointRecord>();
  readonly #documents = new Map<string, Map<string, string>>();
  readonly #active = new Map<string, ActiveSlot>();
  readonly #leases = new Map<string, LeaseRow>();

  async init(): Promise<void> {}

  async readCheckpoint(slot: string): Promise<CheckpointRecord | null> {
    const checkpoint = this.#checkpoints.get(slot);
    return checkpoint ? { ...checkpoint } : null;
  }

  async readDocument(slot: string, id: string): Promise<string | undefined> {
    return this.#documents.get(slot)?.get(id);
  }

  readDocumentSync(slot: string, id: string): string | undefined {
    return this.#documents.get(slot)?.get(id);
  }

  async listDocuments(
    slot: string,
    options: { after?: string; limit: number },
  ): Promise<Array<{ id: string; doc: string }>> {
    const docs = this.#documents.get(slot);
    if (!docs) return [];
    const after = options.after;
    return [...docs.keys()]
      .filter((id) => after === undefined || id > after)
      .sort(compareIds)
      .slice(0, options.limit)
      .map((id) => ({ id, doc: docs.get(id)! }));
  }

  async commit(slot: string, commit: SlotCommit, transaction?: unknown): Promise<void> {
    if (commit.lease) this.#checkFence(commit.lease);
    const apply = () => {
      let docs = this.#documents.get(slot);
      if (!docs) {
        docs = new Map();
        this.#documents.set(slot, docs);
      }
      for (const [id, doc] of commit.documents) {
        if (doc === null) docs.delete(id);
        else docs.set(id, doc);
      }
      this.#checkpoints.set(slot, { ...commit.checkpoint });
    };
    if (transaction instanceof MemoryAppendTransaction) transaction.afterCommit(apply);
    else apply();
  }

  async readActive(name: string): Promise<ActiveSlot | null> {
    const active = this.#active.get(name);
    return active ? { ...active } : null;
  }

  async activate(name: string, active: ActiveSlot): Promise<void> {
    this.#active.set(name, { ...active });
  }

  async dropSlot(slot: string): Promise<void> {
    this.#documents.delete(slot);
    this.#checkpoints.delete(slot);
  }

  async acquireLease(key: string, owner: string, ttlMs: number): Promise<Lease | null> {
    const now = Date.now();
    const row = this.#leases.get(key);
    if (row && row.owner !== owner && row.expiresAt > now) return null;
    const token = !row ? 1 : row.owner === owner ? row.token : row.token + 1;
    this.#leases.set(key, { owner, token, expiresAt: now + ttlMs });
    return { key, owner, token };
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    const row = this.#leases.get(lease.key);
    if (!row || row.owner !== lease.owner || row.token !== lease.token) return false;
    row.expiresAt = Date.now() + ttlMs;
    return true;
  }

  async releaseLease(lease: Lease): Promise<void> {
    const row = this.#leases.get(lease.key);
    // Keep the token so the next holder increments it (stale writers stay fenced off).
    if (row && row.owner === lease.owner && row.token === lease.token) row.expiresAt = 0;
  }

  #checkFence(lease: Lease): void {
    const row = this.#leases.get(lease.key);
    if (!row || row.owner !== lease.owner || row.token !== lease.token) throw new LeaseLostError(lease.key);
  }
}
