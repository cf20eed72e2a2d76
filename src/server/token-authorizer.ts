import { timingSafeEqual } from 'node:crypto';
import { InvalidInputError } from '../core/errors.js';
import { HttpError } from './http-error.js';
import type { TokenConfig } from './server-config.js';

/** Decides whether an `Authorization` header may act on a namespace. */
export interface TokenAuthorizer {
  /** True when no tokens are configured (open API). */
  readonly open: boolean;
  /** Throws 401 for a missing or unknown token, 403 when the token is not scoped to `namespace`. */
  authorize(header: string | undefined, namespace: string): void;
}

/**
 * Builds the authorizer. Tokens are compared in constant time; a token grants exactly the
 * namespaces listed with it, so it can never read or write another namespace.
 */
export function createTokenAuthorizer(tokens: TokenConfig[] | undefined): TokenAuthorizer {
  const entries = (tokens ?? []).map((t, i) => {
    if (typeof t?.token !== 'string' || !/^\S+$/.test(t.token)) {
      throw new InvalidInputError(`tokens[${i}].token`, 'must be a non-empty string without whitespace');
    }
    if (t.namespaces !== '*' && (!Array.isArray(t.namespaces) || t.namespaces.length === 0)) {
      throw new InvalidInputError(
        `tokens[${i}].namespaces`,
        "must be '*' or a non-empty array of namespaces",
      );
    }
    return { token: Buffer.from(t.token), namespaces: t.namespaces };
  });
  const find = (header: string | undefined) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match)
      throw new HttpError(401, 'UNAUTHORIZED', 'missing bearer token (Authorization: Bearer <token>)');
    const given = Buffer.from(match[1]!);
    const entry = entries.find((e) => e.token.length === given.length && timingSafeEqual(e.token, given));
    if (!entry) throw new HttpError(401, 'UNAUTHORIZED', 'invalid token');
    return entry;
  };
  return {
    open: entries.length === 0,
    authorize(header, namespace) {
      if (entries.length === 0) return;
      const entry = find(header);
      if (entry.namespaces !== '*' && !entry.namespaces.includes(namespace)) {
        throw new HttpError(
          403,
          'FORBIDDEN',
          `this token may not access namespace ${JSON.stringify(namespace)}`,
          {
            namespace,
          },
        );
      }
    },
  };
}
