import { InvalidInputError } from './errors.js';
import { limits } from './limits.js';
import type { Json } from './types.js';

/**
 * Serializes `value` as JSON, or throws `InvalidInputError` naming the offending path when it is
 * not plain JSON: BigInt, NaN/Infinity, functions, symbols, `undefined` inside arrays, cycles and
 * non-plain objects (Date, Map, class instances) are rejected instead of being silently changed.
 * Object properties whose value is `undefined` are treated as absent, as in JSON. Strings (values
 * and keys) must be well-formed Unicode without NUL characters, so that every backend (PostgreSQL
 * `jsonb` included) stores exactly what was given.
 */
export function serializeJson(value: unknown, field: string): string {
  assertJson(value, field, new Set());
  return JSON.stringify(value);
}

function assertJson(value: unknown, path: string, seen: Set<object>): asserts value is Json {
  switch (typeof value) {
    case 'string':
      assertText(value, path);
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidInputError(path, `${value} is not representable in JSON`);
      return;
    case 'object':
      if (value === null) return;
      break;
    default:
      throw new InvalidInputError(path, `a ${typeof value} is not JSON`);
  }
  if (seen.has(value)) throw new InvalidInputError(path, 'circular reference');
  // `seen` holds exactly the ancestors, so its size is the depth: a typed error, not a stack overflow.
  if (seen.size >= limits.maxJsonDepth)
    throw new InvalidInputError(path, `nested deeper than ${limits.maxJsonDepth} levels`);
  seen.add(value);
  if (Array.isArray(value)) {
    // A plain loop, not forEach: holes of sparse arrays must be rejected, not skipped.
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      if (item === undefined)
        throw new InvalidInputError(`${path}[${index}]`, 'undefined (or an array hole) is not JSON');
      assertJson(item, `${path}[${index}]`, seen);
    }
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidInputError(path, `${proto?.constructor?.name ?? 'object'} is not a plain JSON object`);
    }
    if (Object.getOwnPropertySymbols(value).length > 0)
      throw new InvalidInputError(path, 'symbol keys are not JSON');
    for (const [key, item] of Object.entries(value)) {
      assertText(key, `${path} key ${JSON.stringify(key)}`);
      if (item !== undefined) assertJson(item, `${path}.${key}`, seen);
    }
  }
  seen.delete(value);
}

function assertText(text: string, path: string): void {
  if (!text.isWellFormed()) throw new InvalidInputError(path, 'string contains a lone surrogate');
  if (text.includes('\u0000')) throw new InvalidInputError(path, 'string contains a NUL character');
}

/** Parses stored JSON text; throws the parser's error for callers that report malformed records. */
export function parseJson(text: string): Json {
  return JSON.parse(text) as Json;
}

/** A short, never-throwing description of an arbitrary value for error messages. */
export function describeValue(value: unknown): string {
  try {
    const text = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value);
    if (text !== undefined) return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    // cycles, BigInt inside objects: fall through to the type name
  }
  return typeof value === 'object' && value !== null
    ? `a ${value.constructor?.name ?? 'object'}`
    : `a ${typeof value}`;
}
