import { InvalidInputError } from './errors.js';
import { describeValue } from './json.js';
import type { Position } from './types.js';

/** The position before every event. */
export const START: Position = '0';

const POSITION_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

/**
 * Total order over positions of one store. Positions are dot-separated unsigned decimal parts
 * compared part by part (a missing part counts as before any present part), so backends may
 * use `"<commit>.<index>"` shapes while simple backends use one counter.
 * Returns a negative number, 0 or a positive number like `Array.prototype.sort` expects.
 */
export function comparePositions(a: Position, b: Position): number {
  if (a === b) return 0;
  const left = a.split('.');
  const right = b.split('.');
  const length = Math.max(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const l = left[i];
    const r = right[i];
    if (l === undefined) return -1;
    if (r === undefined) return 1;
    if (l.length !== r.length) return l.length - r.length;
    if (l !== r) return l < r ? -1 : 1;
  }
  return 0;
}

/** Throws `InvalidInputError` unless `value` is a well-formed position. */
export function assertPosition(value: unknown, field = 'position'): asserts value is Position {
  if (typeof value !== 'string' || value.length > 200 || !POSITION_PATTERN.test(value)) {
    throw new InvalidInputError(field, `not a valid position: ${describeValue(value)}`);
  }
}

/** The larger of two positions. */
export function maxPosition(a: Position, b: Position): Position {
  return comparePositions(a, b) >= 0 ? a : b;
}
