import { HttpError } from './http-error.js';

/**
 * Throws a 403 `FORBIDDEN` when a browser sends a state-changing request (any method but GET and
 * HEAD) from a page of another origin: its `Origin` header must name the host the request was
 * sent to. Requests without `Origin` (command-line and server clients) pass. This stops cross-site
 * request forgery against a server without tokens, which a page could otherwise reach on loopback.
 */
export function assertSameOrigin(method: string, origin: string | undefined, host: string | undefined): void {
  if (origin === undefined || method === 'GET' || method === 'HEAD') return;
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).host;
  } catch {
    // `Origin: null` (sandboxed frames, file: pages) or garbage: never our own origin.
  }
  if (originHost === undefined || originHost !== host) {
    throw new HttpError(
      403,
      'FORBIDDEN',
      `cross-origin ${method} from ${JSON.stringify(origin.slice(0, 200))} refused`,
      {
        origin: origin.slice(0, 200),
      },
    );
  }
}
