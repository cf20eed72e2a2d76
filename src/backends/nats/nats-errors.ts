import { JetStreamApiError } from '@nats-io/jetstream';
import { DuplicateEventIdError } from '../../core/driver.js';
import { OrdoError, StoreClosedError, StoreUnavailableError } from '../../core/errors.js';

/** JetStream error code of a failed expected-sequence check ("wrong last sequence"). */
export const WRONG_LAST_SEQUENCE = 10071;

/** True when a publish failed because an expected last sequence (stream or subject) did not hold. */
export function isWrongLastSequence(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === WRONG_LAST_SEQUENCE;
}

/**
 * Maps a client or server failure to the store's error types: Ordo errors (and the driver's
 * duplicate-id signal) pass through, a closed
 * connection becomes `StoreClosedError`, everything else (timeouts, no responders while the server
 * restarts, disconnections, unexpected API errors) becomes `StoreUnavailableError` with the
 * original error as `cause`; the caller may retry.
 */
export function toStoreError(error: unknown, operation: string, closed: boolean): Error {
  if (error instanceof OrdoError || error instanceof DuplicateEventIdError) return error;
  if (closed) return new StoreClosedError();
  const message = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`NATS ${operation} failed: ${message}`, { cause: error });
}
