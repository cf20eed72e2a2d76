import { HttpError } from './http-error.js';

/**
 * Throws a 400 `INVALID_INPUT` (field `url`) when a path segment or query component of `url` is
 * not valid percent-encoded UTF-8 (`%FF`, an encoded lone surrogate `%ED%A0%80`, a bare `%`).
 * The router would otherwise pass such text on literally, so `…/streams/%FF` would silently
 * write to the stream named `%FF` (the same stream as the correctly encoded `%25FF`).
 */
export function assertWellEncodedUrl(url: string): void {
  const { pathname, search } = new URL(url);
  for (const part of [...pathname.split('/'), ...search.slice(1).split(/[&=]/)]) {
    try {
      decodeURIComponent(part);
    } catch (error) {
      throw new HttpError(
        400,
        'INVALID_INPUT',
        `malformed percent-encoding in the URL: ${JSON.stringify(part.slice(0, 80))}`,
        { field: 'url' },
        { cause: error },
      );
    }
  }
}
