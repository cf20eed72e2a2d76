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
export { comparePositions, START } from './core/position.js';
export { matchesQuery } from './core/query.js';
export { limits } from './core/limits.js';
export {
  CircuitOpenError,
  createConflictCircuitBreaker,
  retryOnConflict,
  type BackoffOptions,
  type ConflictCircuitBreaker,
  type ConflictCircuitBreakerConfig,
  type RetryOnConflictOptions,
} from './core/retry-on-conflict.js';
export {
  handleCommand,
  loadState,
  type CommandHandlerDefinition,
  type HandleCommandOptions,
  type HandleCommandResult,
} from './core/handle-command.js';
export { createInMemoryStore, type MemoryStoreConfig } from './backends/memory/index.js';
export { openStore, type OpenStoreOptions } from './open-store.js';
