import type { Position } from '../core/types.js';

/** A projection's persisted progress; stored atomically with its documents. */
export interface CheckpointRecord {
  /** Last position applied (START when none). */
  position: Position;
  /** JSON text of the projection state. */
  state: string;
  /** Events applied so far (including parked ones). */
  processed: number;
  /** JSON text of the parked events (array); `[]` when none. */
  parked: string;
  /** Milliseconds since the epoch of the last commit. */
  updatedAt: number;
}

/** Which generation of a projection readers use, and the definition version it was built with. */
export interface ActiveSlot {
  generation: number;
  version: number;
}

/** A held lease; `token` is the fencing token checked on every write. */
export interface Lease {
  readonly key: string;
  readonly owner: string;
  readonly token: number;
}

/** One atomic write of a runner: documents changed by a batch plus the new checkpoint. */
export interface SlotCommit {
  checkpoint: CheckpointRecord;
  /** id → JSON text, or `null` to delete. */
  documents: Map<string, string | null>;
  /** When given, the write happens only if this lease is still current (fencing); else `LeaseLostError`. */
  lease?: Lease;
}

/**
 * Where read models, checkpoints, active-generation pointers and leases live. One implementation
 * per backend, in the store's own database when it has one, so that `commit` is one transaction.
 * A slot is one generation of one projection (`<name>#<generation>`); slots are independent.
 * `transaction` is the backend's append transaction when called from an inline append hook.
 */
export interface ProjectionStorage {
  /** Creates what the storage needs (idempotent, safe from several processes at once). */
  init(): Promise<void>;
  readCheckpoint(slot: string, transaction?: unknown): Promise<CheckpointRecord | null>;
  readDocument(slot: string, id: string, transaction?: unknown): Promise<string | undefined>;
  /** Documents in id order after `after` (exclusive). */
  listDocuments(
    slot: string,
    options: { after?: string; limit: number },
  ): Promise<Array<{ id: string; doc: string }>>;
  /** Writes documents and checkpoint atomically; with `lease`, only while the lease is current. */
  commit(slot: string, commit: SlotCommit, transaction?: unknown): Promise<void>;
  readActive(name: string): Promise<ActiveSlot | null>;
  /** Points readers at another generation in one atomic write. */
  activate(name: string, active: ActiveSlot): Promise<void>;
  /** Deletes a slot's documents and checkpoint. */
  dropSlot(slot: string): Promise<void>;
  /**
   * Takes the lease `key` for `ttlMs` if it is free, expired or already ours. A takeover from
   * another owner increments the fencing token. Returns `null` when someone else holds it.
   */
  acquireLease(key: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /** Extends a lease still held with the same token; false when it was lost. */
  renewLease(lease: Lease, ttlMs: number): Promise<boolean>;
  /** Gives the lease up so another runner can take it at once. */
  releaseLease(lease: Lease): Promise<void>;
  /** Synchronous document read, for storages that can (memory, SQLite): enables `docs.getSync`. */
  readDocumentSync?(slot: string, id: string): string | undefined;
  /**
   * Present when the backend's append transaction is synchronous (SQLite): inline projections
   * then read and commit through these inside the hook, without awaiting.
   */
  sync?: {
    readCheckpoint(slot: string): CheckpointRecord | null;
    commit(slot: string, commit: SlotCommit): void;
  };
}

/** The storage key of one generation of a projection. */
export function slotKey(name: string, generation: number): string {
  return `${name}#${generation}`;
}
