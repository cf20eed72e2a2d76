import { InvalidInputError } from './errors.js';
import type { Json } from './types.js';

/**
 * Serializes `value` as JSON, or throws `InvalidInputError` naming the offending path when it is
 * not plain JSON: BigInt, NaN/Infinity, functions, symbols, `undefined` inside arrays, cycles and
 * non-plain objects (Date, Map, class instances) are rejected instead of being silently changed.
 * Object properties whose value is `undefined` are treated as absent, as in JSON.
 */
export function serializeJson(value: unknown, field: string): string {
  assertJson(value, field, new Set());
  return JSON.stringify(value);
}

function assertJson(value: unknown, path: string, seen: Set<object>): asserts value is Json {
  switch (typeof value) {
    case 'string':
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
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      if (item === undefined) throw new InvalidInputError(`${path}[${index}]`, 'undefined is not JSON');
      assertJson(item, `${path}[${index}]`, seen);
    });
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidInputError(path, `${proto?.constructor?.name ?? 'object'} is not a plain JSON object`);
    }
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) assertJson(item, `${path}.${key}`, seen);
    }
  }
  seen.delete(value);
}

/** Parses stored JSON text; throws the parser's error for callers that report malformed records. */
export function parseJson(text: string): Json {
  return JSON.parse(text) as Json;
}
