import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import pino from 'pino';
import type { EventStore } from '../core/types.js';
import { assertNamespace } from '../core/validation.js';
import { registerStreamRoutes } from './append-routes.js';
import { assertLoopbackHost } from './assert-loopback-host.js';
import { assertSameOrigin } from './assert-same-origin.js';
import { assertWellEncodedUrl } from './assert-well-encoded-url.js';
import { defaultConsoleDir, registerConsoleRoutes } from './console-routes.js';
import { toErrorResponse } from './error-response.js';
import { HttpError } from './http-error.js';
import { registerProjectionRoutes } from './projection-routes.js';
import { RateWindow } from './rate-window.js';
import { RebuildTracker } from './rebuild-tracker.js';
import type { ListenOptions, ServerConfig, ServerLogger } from './server-config.js';
import type { ApiEnv, NamespaceState, ServerContext } from './server-context.js';
import { createServerMetrics, type ServerMetrics } from './server-metrics.js';
import { StreamIndex } from './stream-index.js';
import { registerSubscribeRoute } from './subscribe-route.js';
import { createTokenAuthorizer } from './token-authorizer.js';

/** Where a listening server can be reached. */
export interface ServerAddress {
  url: string;
  host: string;
  port: number;
}

/** An Ordo HTTP server: the hono app plus node listening and shutdown. */
export interface OrdoServer {
  /** The hono application (usable with any fetch-based runtime or for in-process requests). */
  readonly app: Hono<ApiEnv>;
  readonly metrics: ServerMetrics;
  /** Handles one request in-process. */
  fetch(request: Request): Promise<Response>;
  /** Starts listening; rejects if the port is taken or a non-loopback host is asked without tokens. */
  listen(options?: ListenOptions): Promise<ServerAddress>;
  /** Ends open SSE streams, stops listening and waits for running rebuilds. Does not close the store. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

/**
 * Creates the HTTP server over a store: JSON API under `/api/v1/ns/:namespace/…`, SSE
 * subscriptions, projection routes (with `projections`), Prometheus `/metrics`, `/health` and the
 * web console at `/`. Every error is `{ error: { code, message, … } }` with a fitting status.
 * Without `tokens` the API is open and `listen` binds to loopback only.
 */
export function createServer(config: ServerConfig): OrdoServer {
  const store = config.store;
  const logger: ServerLogger = config.logger ?? pino({ name: 'ordo' }, pino.destination(2));
  const auth = createTokenAuthorizer(config.tokens);
  const metrics = createServerMetrics(config.projections);
  const namespaces = new Map<string, NamespaceState>();
  const namespaceState = (name: string): NamespaceState => {
    let state = namespaces.get(name);
    if (!state) {
      const nsStore: EventStore = name === store.namespace ? store : store.withNamespace(name);
      state = { namespace: name, store: nsStore, index: new StreamIndex(nsStore), rates: new RateWindow(60) };
      namespaces.set(name, state);
    }
    return state;
  };
  const ctx: ServerContext = {
    store,
    namespace: namespaceState,
    auth,
    metrics,
    projections: config.projections,
    rebuilds: config.projections ? new RebuildTracker(config.projections) : undefined,
    logger,
    heartbeatMs: config.heartbeatMs ?? 15_000,
    openStreams: new Set(),
  };

  const app = new Hono<ApiEnv>();
  app.onError((error, c) => {
    const { status, body } = toErrorResponse(error);
    // A client that disconnected mid-request (an aborted upload) is no server failure; logging it
    // as one would let any client flood the error log.
    if (status >= 500 && !c.req.raw.signal.aborted)
      logger.error(
        `${c.req.method} ${c.req.path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    return c.json(body, status as 400);
  });
  app.notFound((c) =>
    c.json({ error: { code: 'NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  );

  // Authorization first, so an unauthorized client cannot make the server read its body.
  app.use('/api/v1/ns/:namespace/*', async (c, next) => {
    const namespace = c.req.param('namespace');
    assertNamespace(namespace);
    auth.authorize(c.req.header('authorization'), namespace);
    c.set('ns', namespaceState(namespace));
    await next();
  });
  // After authorization (a client without a token learns nothing), before any handler decodes the URL.
  app.use('/api/*', async (c, next) => {
    assertWellEncodedUrl(c.req.url);
    // Only without tokens: a foreign page cannot attach a bearer token, and behind a reverse proxy
    // `Host` often differs from the public origin.
    if (auth.open) {
      assertSameOrigin(c.req.method, c.req.header('origin'), c.req.header('host'));
      assertLoopbackHost(c.req.header('host'));
    }
    await next();
  });

  app.use(
    '/api/*',
    bodyLimit({
      maxSize: config.maxBodyBytes ?? 5 * 1024 * 1024,
      onError: () => {
        throw new HttpError(
          413,
          'PAYLOAD_TOO_LARGE',
          `request body larger than ${config.maxBodyBytes ?? 5 * 1024 * 1024} bytes`,
        );
      },
    }),
  );
  app.get('/health', async (c) => {
    try {
      const head = await store.headPosition();
      return c.json({ status: 'ok', namespace: store.namespace, head });
    } catch (error) {
      throw new HttpError(503, 'STORE_UNAVAILABLE', 'the store does not answer', {}, { cause: error });
    }
  });
  app.get('/metrics', async (c) => {
    return c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
  });
  app.get('/api/v1/info', (c) =>
    c.json({
      namespace: store.namespace,
      authRequired: !auth.open,
      projections: config.projections !== undefined,
    }),
  );
  registerStreamRoutes(app, ctx);
  registerSubscribeRoute(app, ctx);
  registerProjectionRoutes(app, ctx);
  if (config.consoleDir !== false) registerConsoleRoutes(app, config.consoleDir ?? defaultConsoleDir);

  let httpServer: ReturnType<typeof serve> | undefined;

  return {
    app,
    metrics,
    fetch: (request) => Promise.resolve(app.fetch(request)),
    listen(options: ListenOptions = {}) {
      if (httpServer)
        return Promise.reject(new HttpError(500, 'ALREADY_LISTENING', 'the server is already listening'));
      let host = options.host ?? '127.0.0.1';
      if (auth.open && !isLoopback(host)) {
        logger.warn(
          `no tokens configured: refusing to expose an open API on ${host}; binding to 127.0.0.1 instead`,
        );
        host = '127.0.0.1';
      } else if (auth.open) {
        logger.warn('no tokens configured: the API is open to every local process (loopback only)');
      }
      const port = options.port ?? 4700;
      return new Promise<ServerAddress>((resolve, reject) => {
        const server = serve({ fetch: app.fetch, port, hostname: host });
        httpServer = server;
        server.once('error', (error) => {
          httpServer = undefined;
          reject(error);
        });
        server.once('listening', () => {
          const address = server.address() as AddressInfo;
          const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve({ url: `http://${urlHost}:${address.port}`, host: address.address, port: address.port });
        });
      });
    },
    async close() {
      // Bounded: a stream blocked on a client that stopped reading must not hold shutdown forever.
      const streamsStopped = Promise.all([...ctx.openStreams].map((stop) => stop()));
      await Promise.race([streamsStopped, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
      const server = httpServer;
      httpServer = undefined;
      if (server) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          if ('closeAllConnections' in server)
            (server as { closeAllConnections(): void }).closeAllConnections();
        });
      }
      await ctx.rebuilds?.settle();
    },
  };
}
