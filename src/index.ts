export { createInMemoryStore, type MemoryStoreConfig } from './backends/memory/index.js';
export {
  AppendConditionError,
  InvalidInputError,
  isAppendConditionFailure,
  isConflict,
  isVersionConflict,
  MalformedRecordError,
  OrdoError,
  StoreClosedError,
  StoreUnavailableError,
  VersionConflictError,
} from './core/errors.js';
export {
  type CommandHandlerDefinition,
  type HandleCommandOptions,
  type HandleCommandResult,
  handleCommand,
  loadState,
} from './core/handle-command.js';
export { limits } from './core/limits.js';
export { comparePositions, START } from './core/position.js';
export { matchesQuery } from './core/query.js';
export {
  type BackoffOptions,
  CircuitOpenError,
  type ConflictCircuitBreaker,
  type ConflictCircuitBreakerConfig,
  createConflictCircuitBreaker,
  type RetryOnConflictOptions,
  retryOnConflict,
} from './core/retry-on-conflict.js';
export type {
  AppendCondition,
  AppendOptions,
  AppendResult,
  CommonStoreConfig,
  EventFilter,
  EventQuery,
  EventStore,
  ExpectedVersion,
  Json,
  MalformedRecord,
  NewEvent,
  Position,
  ReadAllOptions,
  ReadStreamOptions,
  ReadStreamResult,
  RecordedEvent,
  Snapshot,
  StoreCapabilities,
  StoredSnapshot,
  SubscribeOptions,
  Subscription,
  SubscriptionHandler,
} from './core/types.js';
export * from './machine/index.js';
export { type OpenStoreOptions, openStore } from './open-store.js';
export * from './projections/index.js';
