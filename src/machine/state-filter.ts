import { InvalidInputError } from '../core/errors.js';

/** Field values the index can filter and sort on. */
export type Comparable = string | number | boolean | null;

/**
 * An operand for a field of type `T`. String fields also take a `Date`, compared as its
 * ISO-8601 UTC string (`toISOString()`), the format timestamps in states should use.
 */
export type Operand<T> = [T] extends [string] ? T | Date : T;

/** Operators on one field; all given operators must hold. A bare value means `eq`. */
export interface FieldOperators<T> {
  eq?: Operand<T>;
  ne?: Operand<T>;
  lt?: Operand<T>;
  lte?: Operand<T>;
  gt?: Operand<T>;
  gte?: Operand<T>;
  in?: readonly Operand<T>[];
}

/** A filter on one field: a value (equality) or operators. */
export type FieldFilter<T> = Operand<T> | FieldOperators<T>;

/** Keys of `S` whose values are comparable (strings, numbers, booleans, null). */
export type ComparableKeys<S> = {
  [K in keyof S]-?: Exclude<S[K], undefined> extends Comparable ? K : never;
}[keyof S] &
  string;

/** Typed field filters over the comparable top-level fields of state `S`. */
export type Where<S> = { [K in ComparableKeys<S>]?: FieldFilter<Exclude<S[K], undefined>> };

/** Sort order of a `find`; ties are broken by machine id. */
export type OrderBy<S> = ComparableKeys<S> | { field: ComparableKeys<S>; direction?: 'asc' | 'desc' };

const OPERATORS = new Set(['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in']);

/** A validated predicate over a state object. */
export type Predicate = (state: Record<string, unknown>) => boolean;

/**
 * Compiles a `where` object, throwing `InvalidInputError` for unknown operators or values that
 * are not comparable. Ordering operators only match values of the same JSON type (a number is
 * never "less than" a string), like SQL comparisons with NULL never match.
 */
export function compileWhere(where: unknown): Predicate {
  if (where === undefined) return () => true;
  if (typeof where !== 'object' || where === null || Array.isArray(where)) {
    throw new InvalidInputError('where', 'must be an object of field filters');
  }
  const checks: Predicate[] = [];
  for (const [field, raw] of Object.entries(where)) {
    if (raw === undefined) continue;
    const filter = toOperand(raw, `where.${field}`);
    if (isComparable(filter)) {
      checks.push((s) => equal(s[field], filter));
      continue;
    }
    if (typeof filter !== 'object' || Array.isArray(filter)) {
      throw new InvalidInputError(
        `where.${field}`,
        'must be a string, number, boolean, null or an object of operators',
      );
    }
    for (const [op, rawOperand] of Object.entries(filter as Record<string, unknown>)) {
      if (!OPERATORS.has(op))
        throw new InvalidInputError(
          `where.${field}.${op}`,
          `unknown operator; use ${[...OPERATORS].join(', ')}`,
        );
      if (rawOperand === undefined) continue;
      const operand = Array.isArray(rawOperand)
        ? rawOperand.map((v, i) => toOperand(v, `where.${field}.${op}[${i}]`))
        : toOperand(rawOperand, `where.${field}.${op}`);
      if (op === 'in') {
        if (!Array.isArray(operand) || !operand.every(isComparable)) {
          throw new InvalidInputError(`where.${field}.in`, 'must be an array of comparable values');
        }
        const values = operand as Comparable[];
        checks.push((s) => values.some((v) => equal(s[field], v)));
        continue;
      }
      if (!isComparable(operand))
        throw new InvalidInputError(`where.${field}.${op}`, 'must be a string, number, boolean or null');
      checks.push(operatorCheck(field, op, operand));
    }
  }
  return (state) => checks.every((check) => check(state));
}

/** Dates become ISO strings (an invalid Date is an input error); everything else is unchanged. */
function toOperand(value: unknown, field: string): unknown {
  if (!(value instanceof Date)) return value;
  if (Number.isNaN(value.getTime())) throw new InvalidInputError(field, 'is an invalid Date');
  return value.toISOString();
}

function operatorCheck(field: string, op: string, operand: Comparable): Predicate {
  switch (op) {
    case 'eq':
      return (s) => equal(s[field], operand);
    case 'ne':
      return (s) => !equal(s[field], operand);
    default: {
      const test = {
        lt: (c: number) => c < 0,
        lte: (c: number) => c <= 0,
        gt: (c: number) => c > 0,
        gte: (c: number) => c >= 0,
      }[op as 'lt' | 'lte' | 'gt' | 'gte'];
      return (s) => {
        const value = s[field];
        if (operand === null || value === null || typeof value !== typeof operand) return false;
        return test(compareValues(value as Comparable, operand));
      };
    }
  }
}

function equal(value: unknown, operand: Comparable): boolean {
  return (value === undefined ? null : value) === operand;
}

/** True for the values filters and sorting accept. */
export function isComparable(value: unknown): value is Comparable {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

const RANK = { undefined: 0, object: 0, boolean: 1, number: 2, string: 3 } as Record<string, number>;

/**
 * Total order used for sorting: null/missing < booleans < numbers < strings; strings by UTF-16
 * code units (ISO-8601 timestamps in one format sort chronologically).
 */
export function compareValues(a: unknown, b: unknown): number {
  const ra = isComparable(a) && a !== null ? (RANK[typeof a] ?? 0) : 0;
  const rb = isComparable(b) && b !== null ? (RANK[typeof b] ?? 0) : 0;
  if (ra !== rb) return ra - rb;
  if (ra === 0) return 0;
  if ((a as Comparable) === (b as Comparable)) return 0;
  return (a as number | string | boolean) < (b as number | string | boolean) ? -1 : 1;
}

/** A keyset cursor: the sort value and id of the last item of a page, and the order it belongs to. */
export interface Cursor {
  field: string;
  direction: 'asc' | 'desc';
  value: Comparable;
  id: string;
}

/** Encodes a cursor as an opaque URL-safe string. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.field, cursor.direction, cursor.value, cursor.id])).toString(
    'base64url',
  );
}

/** Decodes a cursor from {@link encodeCursor}; anything else throws `InvalidInputError`. */
export function decodeCursor(text: unknown): Cursor {
  if (typeof text !== 'string' || text.length === 0 || text.length > 4096) {
    throw new InvalidInputError('after', 'must be a cursor returned by find');
  }
  const bytes = Buffer.from(text, 'base64url');
  // Node decodes base64 leniently (skipping stray characters): insist on the exact encoding.
  if (bytes.toString('base64url') !== text)
    throw new InvalidInputError('after', 'is not a cursor returned by find');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new InvalidInputError('after', 'is not a cursor returned by find', { cause: error });
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 4 ||
    typeof parsed[0] !== 'string' ||
    (parsed[1] !== 'asc' && parsed[1] !== 'desc') ||
    !isComparable(parsed[2]) ||
    typeof parsed[3] !== 'string'
  ) {
    throw new InvalidInputError('after', 'is not a cursor returned by find');
  }
  return { field: parsed[0], direction: parsed[1], value: parsed[2], id: parsed[3] };
}
