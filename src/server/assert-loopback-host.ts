import { HttpError } from './http-error.js';

const LOOPBACK_HOST = /^(?:localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(?::\d{1,5})?$/i;

/**
 * For a server without tokens (bound to loopback only): throws a 403 `FORBIDDEN` unless the
 * request's `Host` names a loopback address. A page that points its own domain at 127.0.0.1 (DNS
 * rebinding) sends its domain as `Host`, so it can neither read nor write the open API. In-process
 * requests without a `Host` header pass.
 */
export function assertLoopbackHost(host: string | undefined): void {
  if (host === undefined || LOOPBACK_HOST.test(host)) return;
  throw new HttpError(
    403,
    'FORBIDDEN',
    `Host ${JSON.stringify(host.slice(0, 200))} refused: a server without tokens answers loopback names only`,
  );
}
