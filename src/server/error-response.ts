import { HTTPException } from 'hono/http-exception';
import { ZodError } from 'zod';
import { InvalidInputError, isAppendConditionFailure, isVersionConflict, OrdoError } from '../core/errors.js';
import { HttpError } from './http-error.js';

/** JSON body of every error response: `{ error: { code, message, ...fields } }`. */
export interface ErrorBody {
  error: { code: string; message: string; [field: string]: unknown };
}

/**
 * Maps any thrown value to a status and a JSON error body. Conflicts keep their fields
 * (`streamId`, `expectedVersion`, `currentVersion` / `condition`, `matchingPosition`) so HTTP
 * clients can retry exactly as library callers do.
 */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof HttpError) {
    return {
      status: error.status,
      body: { error: { code: error.code, message: error.message, ...error.details } },
    };
  }
  if (isVersionConflict(error)) {
    const { streamId, expectedVersion, currentVersion } = error;
    return {
      status: 409,
      body: {
        error: { code: error.code, message: error.message, streamId, expectedVersion, currentVersion },
      },
    };
  }
  if (isAppendConditionFailure(error)) {
    const { streamId, condition, matchingPosition } = error;
    return {
      status: 409,
      body: {
        error: {
          code: error.code,
          message: error.message,
          streamId,
          condition,
          ...(matchingPosition === undefined ? {} : { matchingPosition }),
        },
      },
    };
  }
  if (error instanceof InvalidInputError) {
    return { status: 400, body: { error: { code: error.code, message: error.message, field: error.field } } };
  }
  if (error instanceof ZodError) {
    // Same field notation as the store's own errors: `events[0].data`.
    const fieldOf = (path: (string | number)[]) =>
      path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
    const issues = error.issues.map((i) => ({ path: fieldOf(i.path), message: i.message }));
    const first = issues[0];
    return {
      status: 400,
      body: {
        error: {
          code: 'INVALID_INPUT',
          message: first ? `${first.path || 'body'}: ${first.message}` : 'invalid input',
          field: first?.path ?? '',
          issues,
        },
      },
    };
  }
  if (error instanceof HTTPException) {
    const code =
      error.status === 413 ? 'PAYLOAD_TOO_LARGE' : error.status === 400 ? 'INVALID_INPUT' : 'HTTP_ERROR';
    return { status: error.status, body: { error: { code, message: error.message || code } } };
  }
  if (error instanceof OrdoError) {
    const status =
      error.code === 'STORE_UNAVAILABLE' || error.code === 'STORE_CLOSED'
        ? 503
        : error.code === 'INVALID_INPUT'
          ? 400
          : 500;
    return { status, body: { error: { code: error.code, message: error.message } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal server error' } } };
}
