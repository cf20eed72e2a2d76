export type { ParkedEvent } from './apply-events.js';
export {
  type AnyProjection,
  type DocumentEntry,
  type DocumentReader,
  type Documents,
  defineProjection,
  type EventMap,
  type Projection,
  type ProjectionConfig,
  type ProjectionContext,
  type ProjectionEvent,
  type ProjectionHandler,
  type ProjectionHandlers,
} from './define-projection.js';
export { installInlineProjection } from './inline-projection.js';
export { MemoryProjectionStorage } from './memory-projection-storage.js';
export {
  type FailedEventRef,
  LeaseLostError,
  LockAbortedError,
  LockRetriesExhaustedError,
  ProjectionHandlerError,
  UnknownProjectionError,
} from './projection-errors.js';
export {
  createProjectionRegistry,
  type ProjectionInfo,
  type ProjectionRegistry,
  type ProjectionRegistryConfig,
  type ProjectionStatus,
  type RebuildOptions,
  type RebuildProgress,
  type RebuildResult,
  type WaitForCatchUpOptions,
} from './projection-registry.js';
export { type ProjectionErrorInfo, ProjectionRunner, type ProjectionRunState } from './projection-runner.js';
export type {
  ActiveSlot,
  CheckpointRecord,
  Lease,
  ProjectionStorage,
  SlotCommit,
} from './projection-storage.js';
export { projectionStorageFor } from './projection-storage-for.js';
export {
  type LockedProjection,
  type LockResult,
  type LockTransaction,
  withLockOn,
} from './with-lock-on.js';
