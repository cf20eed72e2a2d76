import type { AppendCondition, ExpectedVersion, MalformedRecord, Position } from './types.js';

/** Base class of every error Ordo throws on purpose. `code` is stable and machine-readable. */
export class OrdoError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The stream was not at the expected version; nothing was written. */
export class VersionConflictError extends OrdoError {
  declare readonly code: 'VERSION_CONFLICT';
  readonly streamId: string;
  readonly expectedVersion: ExpectedVersion;
  readonly currentVersion: number;
  constructor(
    streamId: string,
    expectedVersion: ExpectedVersion,
    currentVersion: number,
    options?: { cause?: unknown },
  ) {
    super(
      'VERSION_CONFLICT',
      `Version conflict on stream ${JSON.stringify(streamId)}: expected ${String(expectedVersion)}, current ${currentVersion}`,
      options,
    );
    this.streamId = streamId;
    this.expectedVersion = expectedVersion;
    this.currentVersion = currentVersion;
  }
}

/** An event matching the append's condition exists after the condition's position; nothing was written. */
export class AppendConditionError extends OrdoError {
  declare readonly code: 'APPEND_CONDITION_FAILED';
  readonly streamId: string;
  readonly condition: AppendCondition;
  /** Position of a matching event when the backend can tell it. */
  readonly matchingPosition: Position | undefined;
  constructor(
    streamId: string,
    condition: AppendCondition,
    matchingPosition?: Position,
    options?: { cause?: unknown },
  ) {
    super(
      'APPEND_CONDITION_FAILED',
      `Append condition failed on stream ${JSON.stringify(streamId)}: a matching event exists${
        condition.after ? ` after position ${condition.after}` : ''
      }`,
      options,
    );
    this.streamId = streamId;
    this.condition = condition;
    this.matchingPosition = matchingPosition;
  }
}

/** The caller passed something the contract does not accept; nothing was written. */
export class InvalidInputError extends OrdoError {
  declare readonly code: 'INVALID_INPUT';
  /** Which argument or field was wrong, e.g. `streamId` or `events[2].data`. */
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('INVALID_INPUT', `${field}: ${message}`, options);
    this.field = field;
  }
}

/** The backend could not be reached or failed; the operation may be retried. `cause` holds the backend error. */
export class StoreUnavailableError extends OrdoError {
  declare readonly code: 'STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_UNAVAILABLE', message, options);
  }
}

/** The store was closed before or during the call. */
export class StoreClosedError extends OrdoError {
  declare readonly code: 'STORE_CLOSED';
  constructor() {
    super('STORE_CLOSED', 'The event store is closed');
  }
}

/** A stored record could not be decoded; `readStreamWithErrors` returns such records instead of throwing. */
export class MalformedRecordError extends OrdoError {
  declare readonly code: 'MALFORMED_RECORD';
  readonly record: MalformedRecord;
  constructor(record: MalformedRecord, message: string) {
    super('MALFORMED_RECORD', message, { cause: record.error });
    this.record = record;
  }
}

/** True for {@link VersionConflictError}, also across package copies (checks `code`). */
export function isVersionConflict(error: unknown): error is VersionConflictError {
  return hasCode(error, 'VERSION_CONFLICT');
}

/** True for {@link AppendConditionError}, also across package copies. */
export function isAppendConditionFailure(error: unknown): error is AppendConditionError {
  return hasCode(error, 'APPEND_CONDITION_FAILED');
}

/** True for either kind of optimistic-concurrency conflict: the caller should reload and retry. */
export function isConflict(error: unknown): error is VersionConflictError | AppendConditionError {
  return isVersionConflict(error) || isAppendConditionFailure(error);
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
