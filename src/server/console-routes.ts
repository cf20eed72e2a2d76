import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { HttpError } from './http-error.js';
import type { ApiEnv } from './server-context.js';

/** `console/` of the package: two levels above this module both in `src/server` and `dist/server`. */
export const defaultConsoleDir = fileURLToPath(new URL('../../console/', import.meta.url));

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
};

/**
 * Serves the static web console. Only flat file names with a known extension are served, so
 * no request can reach outside the console directory.
 */
export function registerConsoleRoutes(app: Hono<ApiEnv>, dir: string): void {
  const send = async (file: string) => {
    const match = /^[a-z0-9][a-z0-9-]*\.(html|css|js|svg)$/.exec(file);
    if (!match) throw new HttpError(404, 'NOT_FOUND', 'no such console file');
    try {
      const body = await readFile(join(dir, file));
      return new Response(body, {
        headers: { 'content-type': TYPES[match[1]!]!, 'cache-control': 'no-cache' },
      });
    } catch (error) {
      throw new HttpError(404, 'NOT_FOUND', 'no such console file', {}, { cause: error });
    }
  };
  app.get('/', () => send('index.html'));
  app.get('/console', (c) => c.redirect('/'));
  app.get('/console/:file', (c) => send(c.req.param('file')));
}
