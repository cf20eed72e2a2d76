import { OrdoError } from '../core/errors.js';
import type { Position } from '../core/types.js';

/** The event a projection handler failed on (enough to find and repair it). */
export interface FailedEventRef {
  streamId: string;
  version: number;
  position: Position;
  type: string;
  id: string;
}

/**
 * A projection handler threw. The projection stops (or parks the event, by option) with this
 * error visible in its status; the event is never skipped silently.
 */
export class ProjectionHandlerError extends OrdoError {
  declare readonly code: 'PROJECTION_HANDLER_FAILED';
  readonly projection: string;
  readonly event: FailedEventRef;
  constructor(projection: string, event: FailedEventRef, options?: { cause?: unknown }) {
    const reason = options?.cause instanceof Error ? options.cause.message : String(options?.cause);
    super(
      'PROJECTION_HANDLER_FAILED',
      `Projection ${projection} failed on ${event.type} at position ${event.position} (stream ${JSON.stringify(event.streamId)} v${event.version}): ${reason}`,
      options,
    );
    this.projection = projection;
    this.event = event;
  }
}

/**
 * This process no longer holds the projection's lease (another runner took it over after expiry):
 * the write was refused by the fencing token check and nothing was written.
 */
export class LeaseLostError extends OrdoError {
  declare readonly code: 'LEASE_LOST';
  readonly key: string;
  constructor(key: string, options?: { cause?: unknown }) {
    super('LEASE_LOST', `Lease ${key} is held by another runner; write refused`, options);
    this.key = key;
  }
}

/** `tx.abort(reason)` was called inside a `withLockOn` attempt; it is never retried. */
export class LockAbortedError extends OrdoError {
  declare readonly code: 'LOCK_ABORTED';
  readonly reason: string;
  constructor(reason: string) {
    super('LOCK_ABORTED', reason);
    this.reason = reason;
  }
}

/** Every `withLockOn` attempt met a concurrent change; `cause` is the last conflict. */
export class LockRetriesExhaustedError extends OrdoError {
  declare readonly code: 'LOCK_RETRIES_EXHAUSTED';
  readonly attempts: number;
  constructor(attempts: number, options?: { cause?: unknown }) {
    super('LOCK_RETRIES_EXHAUSTED', `withLockOn gave up after ${attempts} conflicting attempt(s)`, options);
    this.attempts = attempts;
  }
}

/** The named projection is not registered. */
export class UnknownProjectionError extends OrdoError {
  declare readonly code: 'UNKNOWN_PROJECTION';
  readonly projection: string;
  constructor(projection: string) {
    super('UNKNOWN_PROJECTION', `No projection named ${JSON.stringify(projection)} is registered`);
    this.projection = projection;
  }
}
