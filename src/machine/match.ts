import { InvalidInputError } from '../core/errors.js';

/** A member of a discriminated union: every variant carries a string `type`. */
export interface Tagged {
  readonly type: string;
}

/** The variant of union `U` whose `type` is `K`. */
export type Variant<U extends Tagged, K extends U['type']> = Extract<U, { type: K }>;

/** One handler per variant of `U`, keyed by `type`. Leaving one out is a compile error. */
export type MatchHandlers<U extends Tagged, R> = { [K in U['type']]: (value: Variant<U, K>) => R };

/**
 * Exhaustive matching over a discriminated union: calls the handler for `value.type`.
 * The handler object must name every variant (missing or unknown keys are compile errors), so
 * adding a state or command to a union makes every `match` that forgot it fail to compile.
 * At run time a value whose `type` has no handler throws `InvalidInputError`.
 */
export function match<U extends Tagged, R>(value: U, handlers: MatchHandlers<U, R>): R {
  const handler = lookup(value, handlers as unknown as Record<string, ((v: U) => R) | undefined>);
  if (!handler) {
    throw new InvalidInputError('type', `no handler for variant ${JSON.stringify(describeType(value))}`);
  }
  return handler(value);
}

/**
 * Matching with a fallback: handlers for some variants, `otherwise` for the rest. Use it where
 * "every other case" is intended; prefer {@link match} so new variants are not silently absorbed.
 */
export function matchPartial<U extends Tagged, R>(
  value: U,
  handlers: Partial<MatchHandlers<U, R>>,
  otherwise: (value: U) => R,
): R {
  const handler = lookup(value, handlers as unknown as Record<string, ((v: U) => R) | undefined>);
  return handler ? handler(value) : otherwise(value);
}

function lookup<U extends Tagged, R>(
  value: U,
  handlers: Record<string, ((v: U) => R) | undefined>,
): ((v: U) => R) | undefined {
  if (typeof value !== 'object' || value === null || typeof value.type !== 'string') {
    throw new InvalidInputError('value', 'must be an object with a string `type`');
  }
  return Object.hasOwn(handlers, value.type) ? handlers[value.type] : undefined;
}

function describeType(value: Tagged): string {
  return value.type;
}
