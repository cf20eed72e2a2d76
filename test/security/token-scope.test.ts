import { describe, expect, it } from 'vitest';
import { parseTokenOption } from '../../src/cli/serve-command.js';
import { InvalidInputError } from '../../src/core/errors.js';
import { HttpError } from '../../src/server/http-error.js';
import { createTokenAuthorizer } from '../../src/server/token-authorizer.js';

/**
 * Token scopes as `ordo serve --token` builds them: no spelling of a scope grants more than the
 * namespaces it lists, and a scope that lists nothing is refused at startup.
 */

const statusOf = (fn: () => void): number | 'ok' => {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof HttpError) return error.status;
    throw error;
  }
};

describe('token scopes from --token', () => {
  it('a `*` inside a list, spaces or a lookalike are literal names, never the wildcard', () => {
    for (const option of ['a,*:secret', ' *:secret', '*,a:secret', 'a ,b:secret', '**:secret']) {
      const auth = createTokenAuthorizer([parseTokenOption(option)]);
      expect(
        statusOf(() => auth.authorize('Bearer secret', 'victim')),
        option,
      ).toBe(403);
    }
    const all = createTokenAuthorizer([parseTokenOption('*:secret')]);
    expect(statusOf(() => all.authorize('Bearer secret', 'victim'))).toBe('ok');
  });

  it('the token is everything after the first colon; scopes need a name and a token', () => {
    expect(parseTokenOption('shop:se:cret')).toEqual({ token: 'se:cret', namespaces: ['shop'] });
    for (const option of ['secret', ':secret', 'shop:'])
      expect(() => parseTokenOption(option), option).toThrow();
    expect(() => createTokenAuthorizer([parseTokenOption(',:secret')])).toThrow(InvalidInputError);
    expect(() => createTokenAuthorizer([parseTokenOption('shop:has space')])).toThrow(InvalidInputError);
  });

  it('a token listed twice keeps the scope of its first entry (no widening by repetition)', () => {
    const auth = createTokenAuthorizer([parseTokenOption('a:same'), parseTokenOption('b:same')]);
    expect(statusOf(() => auth.authorize('Bearer same', 'a'))).toBe('ok');
    expect(statusOf(() => auth.authorize('Bearer same', 'b'))).toBe(403);
  });

  it('prefixes, suffixes and case variants of a token are unknown tokens', () => {
    const auth = createTokenAuthorizer([{ token: 'Secret-123', namespaces: ['a'] }]);
    for (const header of [
      'Bearer Secret-12',
      'Bearer Secret-1234',
      'Bearer secret-123',
      'Bearer Secret-123\u0000',
      'Bearer Secret-123a',
    ]) {
      expect(
        statusOf(() => auth.authorize(header, 'a')),
        header,
      ).toBe(401);
    }
    expect(statusOf(() => auth.authorize('bearer   Secret-123  ', 'a'))).toBe('ok');
  });
});
