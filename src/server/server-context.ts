import type { EventStore } from '../core/types.js';
import type { RateWindow } from './rate-window.js';
import type { RebuildTracker } from './rebuild-tracker.js';
import type { ProjectionRegistryLike, ServerLogger } from './server-config.js';
import type { ServerMetrics } from './server-metrics.js';
import type { StreamIndex } from './stream-index.js';
import type { TokenAuthorizer } from './token-authorizer.js';

/** Per-namespace state of a server: the namespaced store, its stream listing and its rates. */
export interface NamespaceState {
  namespace: string;
  store: EventStore;
  index: StreamIndex;
  rates: RateWindow;
}

/** What the route modules share. */
export interface ServerContext {
  store: EventStore;
  namespace(name: string): NamespaceState;
  auth: TokenAuthorizer;
  metrics: ServerMetrics;
  projections: ProjectionRegistryLike | undefined;
  rebuilds: RebuildTracker | undefined;
  logger: ServerLogger;
  heartbeatMs: number;
  /** Stops of open SSE streams (resolve once cleaned up), called on shutdown so `close()` never waits on a client. */
  openStreams: Set<() => Promise<void>>;
}

/** Hono environment of the API routes. */
export interface ApiEnv {
  Variables: { ns: NamespaceState };
}
