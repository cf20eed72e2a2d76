import { VersionConflictError } from './errors.js';
import type { ExpectedVersion } from './types.js';

/** True when a stream at `current` satisfies `expected`. Backends use it where the check runs in their transaction. */
export function versionMatches(expected: ExpectedVersion, current: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return current === 0;
    case 'stream_exists':
      return current > 0;
    default:
      return current === expected;
  }
}

/** Throws `VersionConflictError` unless `current` satisfies `expected`. */
export function checkExpectedVersion(streamId: string, expected: ExpectedVersion, current: number): void {
  if (!versionMatches(expected, current)) throw new VersionConflictError(streamId, expected, current);
}
