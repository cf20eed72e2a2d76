import type { EventStore } from '../core/types.js';

/** A bearer token and the namespaces it may read and write (`'*'` = every namespace). */
export interface TokenConfig {
  token: string;
  namespaces: string[] | '*';
}

/** Progress of a projection rebuild as reported by the projection registry. */
export interface RebuildProgressLike {
  processed: number;
  total?: number;
}

/**
 * The part of a projection registry (`createProjectionRegistry` from `ordo/projections`) the
 * server uses. Kept structural so the server works with any registry exposing these calls.
 */
export interface ProjectionRegistryLike {
  /** The store the registry runs on; its namespace is where the projections are served. */
  readonly store?: { readonly namespace: string };
  list(): unknown;
  status(name?: string): unknown;
  rebuild(name: string, options?: { onProgress?: (progress: RebuildProgressLike) => void }): Promise<unknown>;
}

/** Minimal logger (pino-compatible). */
export interface ServerLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Configuration of `createServer`. */
export interface ServerConfig {
  /** The store served; `/api/v1/ns/:namespace/…` maps to `store.withNamespace(namespace)`. The caller closes it. */
  store: EventStore;
  /** Projection registry (served in the namespace of its store); projection routes answer 404 without one. */
  projections?: ProjectionRegistryLike;
  /** Bearer tokens scoped to namespaces. None configured = open API, bound to loopback only. */
  tokens?: TokenConfig[];
  /** Largest accepted request body in bytes (default 5 MiB); larger bodies get 413. */
  maxBodyBytes?: number;
  /** Directory of the web console; `false` disables it. Default: `console/` of the package. */
  consoleDir?: string | false;
  /** Interval of SSE keep-alive comments (default 15 s). */
  heartbeatMs?: number;
  logger?: ServerLogger;
}

/** Options of `OrdoServer.listen`. */
export interface ListenOptions {
  /** Default 4700; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Without tokens only loopback addresses are allowed. */
  host?: string;
}
