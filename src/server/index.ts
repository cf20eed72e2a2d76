export { createServer, isLoopback, type OrdoServer, type ServerAddress } from './create-server.js';
export type { ErrorBody } from './error-response.js';
export { HttpError } from './http-error.js';
export type { ProjectionStatusView } from './projection-status.js';
export type { RateSample } from './rate-window.js';
export type { RebuildView } from './rebuild-tracker.js';
export type {
  ListenOptions,
  ProjectionRegistryLike,
  RebuildProgressLike,
  ServerConfig,
  ServerLogger,
  TokenConfig,
} from './server-config.js';
export type { ServerMetrics } from './server-metrics.js';
export type { StreamSummary } from './stream-index.js';
