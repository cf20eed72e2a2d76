import { expect } from 'vitest';
import type { EventStore } from '../../src/core/types.js';
import { createServer, type OrdoServer } from '../../src/server/index.js';
import type { ServerConfig } from '../../src/server/server-config.js';

/** Logger that records 5xx logs, so a test can show the server never hit an unexpected failure. */
export function recordingLogger(): { errors: string[]; info(): void; warn(): void; error(m: string): void } {
  const errors: string[] = [];
  return {
    errors,
    info() {},
    warn() {},
    error(message: string) {
      errors.push(message);
    },
  };
}

/** A response whose JSON body tests read freely (shapes are asserted, not typed). */
// biome-ignore lint/suspicious/noExplicitAny: test bodies are checked by assertions
export type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };

/** A server answering in-process (no socket), plus what the security tests need around it. */
export interface InProcessServer {
  server: OrdoServer;
  store: EventStore;
  logged: string[];
  /** Sends one request through `server.fetch`; `token` becomes `Authorization: Bearer …`. */
  send(
    path: string,
    init?: { method?: string; token?: string; body?: string; headers?: Record<string, string> },
  ): Promise<JsonResponse>;
}

export function inProcessServer(config: Partial<ServerConfig> & { store: EventStore }): InProcessServer {
  const logger = recordingLogger();
  const server = createServer({ logger, heartbeatMs: 60_000, consoleDir: false, ...config });
  return {
    server,
    store: config.store,
    logged: logger.errors,
    async send(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`);
      if (init.body !== undefined && !headers.has('content-type'))
        headers.set('content-type', 'application/json');
      return server.fetch(
        new Request(`http://127.0.0.1${path}`, {
          method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
          headers,
          ...(init.body === undefined ? {} : { body: init.body }),
        }),
      );
    },
  };
}

/** Reads a response body; an SSE body is cancelled after the first chunk so no stream stays open. */
export async function bodyText(res: Response): Promise<string> {
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    const reader = res.body!.getReader();
    const first = await reader.read();
    await reader.cancel();
    return first.value ? new TextDecoder().decode(first.value) : '';
  }
  return res.text();
}

/**
 * Asserts the shape every rejection must have: a 4xx status (never 5xx) and a JSON body
 * `{ error: { code, message } }`. Returns the code.
 */
export async function expectClientError(res: Response, context: string): Promise<string> {
  const text = await bodyText(res);
  expect(res.status, `${context}: ${text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${context}: ${text.slice(0, 300)}`).toBeLessThan(500);
  expect(res.headers.get('content-type') ?? '', context).toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof body.error?.code, `${context}: ${text.slice(0, 300)}`).toBe('string');
  expect(typeof body.error?.message, context).toBe('string');
  return body.error!.code as string;
}

/** One concrete request per route of the hono router table (middleware entries skipped). */
export interface ConcreteRoute {
  method: string;
  /** The route pattern as registered. */
  pattern: string;
  /** A concrete path for `namespace`, with a valid JSON body for POST routes that take one. */
  path: string;
  body?: string;
}

/**
 * Enumerates the router table so routes added later are covered automatically: `:namespace`,
 * `:streamId` and `:name` are replaced by the given values; `…/stream` query routes get `?id=`.
 */
export function concreteRoutes(
  server: OrdoServer,
  namespace: string,
  values: { streamId: string; projection: string },
): ConcreteRoute[] {
  return server.app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => {
      let path = r.path
        .replace(':namespace', namespace)
        .replace(':streamId', encodeURIComponent(values.streamId))
        .replace(':name', encodeURIComponent(values.projection));
      if (/\/stream(\/version)?$/.test(path)) path += `?id=${encodeURIComponent(values.streamId)}`;
      const route: ConcreteRoute = { method: r.method, pattern: r.path, path };
      if (r.method === 'POST' && /\/streams?(\/|$|\?)/.test(path))
        route.body = JSON.stringify({ events: [{ type: 'Probe', data: { from: 'probe' } }] });
      return route;
    });
}

/** Head position of every namespace given: a rejected request must leave all of them unchanged. */
export async function heads(store: EventStore, namespaces: string[]): Promise<Record<string, string>> {
  const entries = await Promise.all(
    namespaces.map(async (ns) => [ns, await store.withNamespace(ns).headPosition()] as const),
  );
  return Object.fromEntries(entries);
}

/**
 * Reads an event stream until `done(text so far)` holds, then cancels it. Fails after `timeoutMs`
 * (a bound on the test, not a timing assertion).
 */
export async function readSseUntil(
  res: Response,
  done: (text: string) => boolean,
  timeoutMs = 10_000,
): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    while (!done(text)) {
      const { value, done: ended } = await reader.read();
      if (ended) throw new Error(`event stream ended before the expected content; got ${text.slice(0, 500)}`);
      text += decoder.decode(value, { stream: true });
    }
    return text;
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}
