import { OrdoError } from '../core/errors.js';

/** Prints an error as `error <CODE>: <message>` on stderr; returns the exit code to use. */
export function reportError(error: unknown): number {
  if (
    error instanceof OrdoError ||
    (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string')
  ) {
    const e = error as { code: string; message: string };
    process.stderr.write(`error ${e.code}: ${e.message}\n`);
  } else {
    process.stderr.write(`error INTERNAL: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  return 1;
}

/** Wraps a command action so every failure prints its code and message and exits non-zero. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      process.exitCode = reportError(error);
    }
  };
}

/** A CLI usage error (bad option value). */
export class CliUsageError extends OrdoError {
  declare readonly code: 'INVALID_INPUT';
  constructor(message: string) {
    super('INVALID_INPUT', message);
  }
}
