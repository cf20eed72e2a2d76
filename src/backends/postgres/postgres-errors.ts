import pg from 'pg';
import { OrdoError, StoreUnavailableError } from '../../core/errors.js';

/** SQLSTATE classes and codes that mean the connection or the server went away (worth a fresh connection). */
const connectionCodes = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);
const socketCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/** True when the error says the connection was lost or could not be made (not a problem with the statement). */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (connectionCodes.has(code) || socketCodes.has(code) || code.startsWith('08'))
  )
    return true;
  const message = (error as { message?: unknown }).message;
  return (
    typeof message === 'string' &&
    /Connection terminated|connection timeout|Client has encountered a connection error|Client was closed/i.test(
      message,
    )
  );
}

/** SQLSTATE of a pg error, if any. */
export function sqlState(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Ordo's errors pass through; anything else from the database or the socket becomes a
 * `StoreUnavailableError` with the original as `cause`, so callers handle one typed error.
 */
export function toStoreError(error: unknown, operation: string): Error {
  if (error instanceof OrdoError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`PostgreSQL ${operation} failed: ${message}`, { cause: error });
}

/** True for errors raised by the database or the connection (as opposed to errors of caller code). */
export function isDatabaseError(error: unknown): boolean {
  return error instanceof pg.DatabaseError || isConnectionError(error);
}
