import type { EventStore } from '../../src/core/types.js';
import { createInMemoryStore } from '../../src/index.js';
import { createServer, type OrdoServer } from '../../src/server/index.js';
import type { ServerConfig } from '../../src/server/server-config.js';

/** A response whose JSON body tests read freely (shapes are asserted, not typed). */
// biome-ignore lint/suspicious/noExplicitAny: test bodies are checked by assertions
export type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };

/** A server listening on a free loopback port over a fresh memory store. */
export interface Harness {
  url: string;
  store: EventStore;
  server: OrdoServer;
  request(path: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<JsonResponse>;
  close(): Promise<void>;
}

export const silentLogger = { info() {}, warn() {}, error() {} };

export async function startHarness(config: Partial<ServerConfig> = {}): Promise<Harness> {
  const store = config.store ?? createInMemoryStore();
  const server = createServer({ logger: silentLogger, heartbeatMs: 1_000, ...config, store });
  const { url } = await server.listen({ port: 0 });
  return {
    url,
    store,
    server,
    request(path, init = {}) {
      const { token, json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(url + path, {
        ...rest,
        headers,
        ...(json !== undefined ? { body: JSON.stringify(json), method: rest.method ?? 'POST' } : {}),
      });
    },
    async close() {
      await server.close();
      await store.close();
    },
  };
}

/** A stream id as one path segment; dots are encoded too so `.` and `..` are not resolved away by URL parsers. */
export const encodeStreamId = (streamId: string) => encodeURIComponent(streamId).replace(/\./g, '%2E');

/** Path of a stream in a namespace, with the id URL-encoded. */
export const streamPath = (streamId: string, ns = 'default') =>
  `/api/v1/ns/${ns}/streams/${encodeStreamId(streamId)}`;

/** The same stream through the `?id=` form (needed for `.` and `..`). */
export const streamQueryPath = (streamId: string, ns = 'default', suffix = '') =>
  `/api/v1/ns/${ns}/stream${suffix}?id=${encodeURIComponent(streamId)}`;
