import type { KV, Kvm } from '@nats-io/kv';
import { InvalidInputError, OrdoError, StoreUnavailableError } from '../core/errors.js';
import { compareIds } from './document-batch.js';
import { LeaseLostError } from './projection-errors.js';
import type {
  ActiveSlot,
  CheckpointRecord,
  Lease,
  ProjectionStorage,
  SlotCommit,
} from './projection-storage.js';

/** What a NATS commit record holds: the checkpoint and the documents of that batch. */
interface CommitRecord {
  checkpoint: CheckpointRecord;
  documents: Array<[string, string | null]>;
}

const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const decode = (text: string) => Buffer.from(text, 'base64url').toString('utf8');

/** True for a KV compare-and-set that lost (the key moved past the expected revision). */
function isRevisionMismatch(error: unknown): boolean {
  const api = (error as { apiError?: () => { err_code?: number } }).apiError?.();
  return api?.err_code === 10071 || /wrong last sequence/i.test(String((error as Error)?.message));
}

/**
 * Projection storage in a NATS KV bucket beside the namespace's stream (`<stream>_projections`).
 * KV has no multi-key transactions, so a runner's commit is ONE compare-and-set write of a commit
 * record (checkpoint + the batch's documents) on the slot's key, expecting the revision this runner
 * last wrote: that write is the atomic commit and the fence (a runner that lost its lease finds
 * the revision moved and gets `LeaseLostError`). The documents are then copied to their own keys;
 * the next lease holder re-applies the last commit record first, so a crash between the two
 * steps loses nothing (document writes are idempotent). Readers may briefly see a batch's
 * documents partly copied. Leases are KV keys taken with create / update-with-revision and an
 * expiry time; the fencing token is the key's revision. Inline projections are not available.
 */
export class NatsProjectionStorage implements ProjectionStorage {
  readonly #kvm: Kvm;
  readonly #bucket: string;
  readonly #replicas: number;
  readonly #maxPayload: number;
  #kv: Promise<KV> | undefined;
  /** Revision of each slot's commit record as last written or recovered by this storage's lease holder. */
  readonly #revisions = new Map<string, { token: number; revision: number }>();
  /** Current revision of each lease this storage holds. */
  readonly #leases = new Map<string, { owner: string; token: number; revision: number }>();

  constructor(kvm: Kvm, bucket: string, options: { replicas?: number; maxPayload?: number } = {}) {
    this.#kvm = kvm;
    this.#bucket = bucket;
    this.#replicas = options.replicas ?? 1;
    this.#maxPayload = options.maxPayload ?? 1024 * 1024;
  }

  #open(): Promise<KV> {
    this.#kv ??= this.#kvm
      .create(this.#bucket, { history: 1, replicas: this.#replicas })
      .catch((error: unknown) => {
        this.#kv = undefined;
        throw new StoreUnavailableError(`cannot open KV bucket ${this.#bucket}`, { cause: error });
      });
    return this.#kv;
  }

  async init(): Promise<void> {
    await this.#open();
  }

  async #record(slot: string): Promise<{ record: CommitRecord; revision: number } | null> {
    return kvCall('record', async () => {
      const entry = await (await this.#open()).get(`cp.${encode(slot)}`);
      if (entry?.operation !== 'PUT' || entry.value.length === 0) return null;
      return { record: JSON.parse(entry.string()) as CommitRecord, revision: entry.revision };
    });
  }

  async readCheckpoint(slot: string): Promise<CheckpointRecord | null> {
    return (await this.#record(slot))?.record.checkpoint ?? null;
  }

  async readDocument(slot: string, id: string): Promise<string | undefined> {
    return kvCall('readDocument', async () => {
      const entry = await (await this.#open()).get(`doc.${encode(slot)}.${encode(id)}`);
      return entry && entry.operation === 'PUT' ? entry.string() : undefined;
    });
  }

  async listDocuments(
    slot: string,
    options: { after?: string; limit: number },
  ): Promise<Array<{ id: string; doc: string }>> {
    const ids = (await this.#ids(slot))
      .filter((id) => options.after === undefined || id > options.after)
      .sort(compareIds)
      .slice(0, options.limit);
    const docs = await Promise.all(ids.map(async (id) => ({ id, doc: await this.readDocument(slot, id) })));
    return docs.filter((d): d is { id: string; doc: string } => d.doc !== undefined);
  }

  async #ids(slot: string): Promise<string[]> {
    return kvCall('ids', async () => {
      const prefix = `doc.${encode(slot)}.`;
      const ids: string[] = [];
      for await (const key of await (await this.#open()).keys(`${prefix}>`))
        ids.push(decode(key.slice(prefix.length)));
      return ids;
    });
  }

  async commit(slot: string, commit: SlotCommit): Promise<void> {
    return kvCall('commit', async () => {
      const kv = await this.#open();
      const record: CommitRecord = { checkpoint: commit.checkpoint, documents: [...commit.documents] };
      const value = JSON.stringify(record);
      if (Buffer.byteLength(value) > this.#maxPayload - 1024) {
        throw new InvalidInputError(
          'batchSize',
          `one batch of projection ${slot} changes ${Buffer.byteLength(value)} bytes of documents; NATS accepts at most ${this.#maxPayload} per commit: use a smaller batchSize`,
        );
      }
      const key = `cp.${encode(slot)}`;
      let revision: number;
      if (commit.lease) {
        const fence = this.#revisions.get(slot);
        // Another holder took the lease through this same storage: this lease is stale.
        if (!fence || fence.token !== commit.lease.token) throw new LeaseLostError(commit.lease.key);
        const expected = fence.revision;
        try {
          revision = expected === 0 ? await kv.create(key, value) : await kv.update(key, value, expected);
        } catch (error) {
          if (isRevisionMismatch(error)) throw new LeaseLostError(commit.lease.key, { cause: error });
          throw error;
        }
      } else {
        revision = await kv.put(key, value);
      }
      if (commit.lease) this.#revisions.set(slot, { token: commit.lease.token, revision });
      await this.#applyDocuments(kv, slot, record.documents);
    });
  }

  async #applyDocuments(kv: KV, slot: string, documents: Array<[string, string | null]>): Promise<void> {
    const prefix = `doc.${encode(slot)}.`;
    await Promise.all(
      documents.map(([id, doc]) =>
        doc === null ? kv.delete(prefix + encode(id)) : kv.put(prefix + encode(id), doc),
      ),
    );
  }

  async readActive(name: string): Promise<ActiveSlot | null> {
    return kvCall('readActive', async () => {
      const entry = await (await this.#open()).get(`active.${encode(name)}`);
      return entry && entry.operation === 'PUT' ? (JSON.parse(entry.string()) as ActiveSlot) : null;
    });
  }

  async activate(name: string, active: ActiveSlot): Promise<void> {
    return kvCall('activate', async () => {
      await (await this.#open()).put(`active.${encode(name)}`, JSON.stringify(active));
    });
  }

  async dropSlot(slot: string): Promise<void> {
    const kv = await this.#open();
    const prefix = `doc.${encode(slot)}.`;
    for (const id of await this.#ids(slot)) await kv.purge(prefix + encode(id));
    await kv.purge(`cp.${encode(slot)}`);
    this.#revisions.delete(slot);
  }

  async acquireLease(key: string, owner: string, ttlMs: number): Promise<Lease | null> {
    return kvCall('acquireLease', async () => {
      const kv = await this.#open();
      const leaseKey = `lease.${encode(key)}`;
      const value = JSON.stringify({ owner, expiresAt: Date.now() + ttlMs });
      const entry = await kv.get(leaseKey);
      let revision: number;
      try {
        if (entry?.operation !== 'PUT') {
          revision = entry
            ? await kv.update(leaseKey, value, entry.revision)
            : await kv.create(leaseKey, value);
        } else {
          const current = JSON.parse(entry.string()) as { owner: string; expiresAt: number };
          if (current.owner !== owner && current.expiresAt > Date.now()) return null;
          revision = await kv.update(leaseKey, value, entry.revision);
        }
      } catch (error) {
        if (isRevisionMismatch(error)) return null;
        throw error;
      }
      this.#leases.set(key, { owner, token: revision, revision });
      // Recovery: finish copying the documents of the last commit, and fence from its revision on.
      const last = await this.#record(key);
      this.#revisions.set(key, { token: revision, revision: last?.revision ?? 0 });
      if (last) await this.#applyDocuments(kv, key, last.record.documents);
      return { key, owner, token: revision };
    });
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    return kvCall('renewLease', async () => {
      const held = this.#leases.get(lease.key);
      if (!held || held.owner !== lease.owner || held.token !== lease.token) return false;
      try {
        held.revision = await (await this.#open()).update(
          `lease.${encode(lease.key)}`,
          JSON.stringify({ owner: lease.owner, expiresAt: Date.now() + ttlMs }),
          held.revision,
        );
        return true;
      } catch (error) {
        if (!isRevisionMismatch(error)) throw error;
        this.#leases.delete(lease.key);
        return false;
      }
    });
  }

  async releaseLease(lease: Lease): Promise<void> {
    const held = this.#leases.get(lease.key);
    if (!held || held.owner !== lease.owner || held.token !== lease.token) return;
    this.#leases.delete(lease.key);
    await (await this.#open())
      .update(
        `lease.${encode(lease.key)}`,
        JSON.stringify({ owner: lease.owner, expiresAt: 0 }),
        held.revision,
      )
      .catch(() => {});
  }
}

/**
 * KV failures (timeouts and no responders while the server restarts, disconnections) become
 * `StoreUnavailableError` with the original as `cause`, so the runner retries them as backend
 * trouble and a handler's `docs.get` never fails with a foreign error; Ordo's errors pass through.
 */
async function kvCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof OrdoError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new StoreUnavailableError(`NATS projection storage ${operation} failed: ${message}`, {
      cause: error,
    });
  }
}
