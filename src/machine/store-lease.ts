import { randomUUID } from 'node:crypto';
import { InvalidInputError, isConflict } from '../core/errors.js';
import type { EventStore } from '../core/types.js';

/** Constructor options of {@link createStoreLease}. */
export interface StoreLeaseConfig {
  store: EventStore;
  /** Lease name; the lease lives in stream `ordo.lease.<name>` of the store's namespace. */
  name: string;
  /** Identifies the holder (default: a random id per lease object). */
  owner?: string;
  /** How long an acquisition or renewal is valid (default 10,000 ms). */
  ttlMs?: number;
  /** Clock in epoch milliseconds (default `Date.now`); all contenders must share a time source. */
  now?: () => number;
}

/**
 * A lease held through optimistic concurrency on one stream: acquiring or renewing appends an
 * event at the version last read, so of two contenders at most one succeeds (the backend
 * enforces it). The holder's fencing token is the stream version of its acquisition, so it
 * grows with every change of hands and stays the same across renewals. A holder that stops renewing loses the lease
 * `ttlMs` after its last renewal.
 */
export interface StoreLease {
  readonly owner: string;
  readonly streamId: string;
  /** Fencing token of the current holding, or undefined when not held. */
  readonly token: number | undefined;
  /**
   * Acquires the lease if free or expired, renews it if held (when less than half the ttl is
   * left). Returns whether this owner holds it now.
   */
  acquire(): Promise<boolean>;
  /** True while the last acquisition or renewal has not expired by the local clock. */
  isHeld(): boolean;
  /** Gives the lease up so another contender can take it at once. */
  release(): Promise<void>;
}

interface LeaseData {
  owner: string | null;
  expiresAt: number;
}

/** Creates a {@link StoreLease}; it works on every backend since it only uses append and read. */
export function createStoreLease(config: StoreLeaseConfig): StoreLease {
  if (typeof config?.name !== 'string' || config.name.length === 0)
    throw new InvalidInputError('name', 'must be a non-empty string');
  const ttlMs = config.ttlMs ?? 10_000;
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1)
    throw new InvalidInputError('ttlMs', 'must be a positive integer');
  const { store } = config;
  const owner = config.owner ?? randomUUID();
  const now = config.now ?? Date.now;
  const streamId = `ordo.lease.${config.name}`;
  let token: number | undefined;
  let heldUntil = 0;
  let lastWritten = -1;

  const write = async (
    type: string,
    data: LeaseData,
    expectedVersion: number,
  ): Promise<number | undefined> => {
    try {
      const result = await store.append(streamId, [{ type, data: { ...data } }], { expectedVersion });
      return result.lastVersion;
    } catch (error) {
      if (isConflict(error)) return undefined;
      throw error;
    }
  };

  return {
    owner,
    streamId,
    get token() {
      return this.isHeld() ? token : undefined;
    },
    isHeld() {
      return token !== undefined && now() < heldUntil;
    },
    async acquire() {
      const at = now();
      if (token !== undefined && at < heldUntil - ttlMs / 2) return true;
      const [last] = await store.readStream(streamId, { direction: 'backwards', limit: 1 });
      const current = last?.data as LeaseData | undefined;
      const version = last?.version ?? 0;
      const mine = current?.owner === owner;
      if (current && !mine && current.owner !== null && current.expiresAt > at) {
        token = undefined;
        return false;
      }
      // Renewal only when the last record is our own last write; anything else is a new holding.
      const renewing = token !== undefined && mine && version === lastWritten;
      if (!renewing) token = undefined;
      const expiresAt = at + ttlMs;
      const written = await write(renewing ? 'LeaseRenewed' : 'LeaseAcquired', { owner, expiresAt }, version);
      if (written === undefined) {
        token = undefined;
        return false;
      }
      lastWritten = written;
      if (!renewing) token = written;
      heldUntil = expiresAt;
      return true;
    },
    async release() {
      if (token === undefined) return;
      token = undefined;
      heldUntil = 0;
      const [last] = await store.readStream(streamId, { direction: 'backwards', limit: 1 });
      if (!last || (last.data as unknown as LeaseData).owner !== owner) return;
      await write('LeaseReleased', { owner: null, expiresAt: 0 }, last.version);
    },
  };
}
