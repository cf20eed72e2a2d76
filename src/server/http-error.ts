import { OrdoError } from '../core/errors.js';

/** An error with a fixed HTTP status (401, 403, 404, 409, 413, …) and a stable `code`. */
export class HttpError extends OrdoError {
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 500 | 503;
  readonly details: Record<string, unknown>;
  constructor(
    status: HttpError['status'],
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.status = status;
    this.details = details;
  }
}
