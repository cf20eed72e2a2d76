import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryStore } from '../../src/index.js';
import {
  createProjectionRegistry,
  defineProjection,
  type ProjectionRegistry,
} from '../../src/projections/index.js';
import { expectClientError, heads, type InProcessServer, inProcessServer } from './security-harness.js';

/**
 * Cross-site request forgery against an open (token-less, loopback-only) server. A web page on
 * another origin cannot read the answers (no CORS headers), but a browser sends "simple" requests
 * without asking first: a POST with `Content-Type: text/plain` or a form encoding, with the page's
 * `Origin`. Such requests must change nothing: append bodies must be declared JSON, and a POST
 * whose `Origin` is not the server's own is refused.
 */

const counter = defineProjection<{ n: number }>({
  name: 'counter',
  version: 1,
  init: () => ({ n: 0 }),
  handlers: { Counted: (state) => ({ n: state.n + 1 }) },
});

let s: InProcessServer;
let registry: ProjectionRegistry;
beforeAll(async () => {
  const store = createInMemoryStore();
  registry = createProjectionRegistry({ store, projections: [counter] });
  await registry.start();
  s = inProcessServer({ store, projections: registry });
});
afterAll(async () => {
  await s.server.close();
  await registry.stop();
  await s.store.close();
});

const body = JSON.stringify({ events: [{ type: 'Counted', data: {} }] });
const append = '/api/v1/ns/default/streams/csrf';

async function rebuilds(): Promise<number> {
  const list = await (await s.send('/api/v1/ns/default/projections')).json();
  return list.projections.filter((p: { rebuild: unknown }) => p.rebuild !== null).length;
}

describe('cross-site requests to an open server', () => {
  it('refuses append bodies that are not declared JSON (what a page can send without a preflight)', async () => {
    for (const contentType of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
      'text/json-ish',
    ]) {
      const before = await heads(s.store, ['default']);
      const res = await s.send(append, { body, headers: { 'content-type': contentType } });
      expect(await expectClientError(res, contentType)).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(res.status).toBe(415);
      expect(await heads(s.store, ['default'])).toEqual(before);
    }
    const missing = await s.server.fetch(
      new Request(`http://127.0.0.1${append}`, { method: 'POST', body: new Blob([body]) }),
    );
    expect(missing.status).toBe(415);
  });

  it('accepts JSON content types with parameters', async () => {
    for (const contentType of ['application/json', 'application/json; charset=utf-8', 'Application/JSON']) {
      const res = await s.send(append, { body, headers: { 'content-type': contentType } });
      expect(res.status, contentType).toBe(201);
    }
  });

  it('refuses a POST from another origin (append and rebuild), and writes or starts nothing', async () => {
    const before = await heads(s.store, ['default']);
    for (const origin of [
      'http://evil.example',
      'null',
      'http://127.0.0.1:1',
      'http://127.0.0.1.evil.example',
    ]) {
      const res = await s.send(append, { body, headers: { origin, host: '127.0.0.1' } });
      expect(res.status, origin).toBe(403);
      expect(await expectClientError(res, origin)).toBe('FORBIDDEN');
      const rebuild = await s.send('/api/v1/ns/default/projections/counter/rebuild', {
        method: 'POST',
        headers: { origin, host: '127.0.0.1' },
      });
      expect(rebuild.status, origin).toBe(403);
    }
    expect(await heads(s.store, ['default'])).toEqual(before);
    expect(await rebuilds()).toBe(0);
  });

  it('accepts a POST from its own origin (the console) and one without Origin (non-browser clients)', async () => {
    const own = await s.send(append, {
      body,
      headers: { origin: 'http://127.0.0.1:4700', host: '127.0.0.1:4700' },
    });
    expect(own.status).toBe(201);
    const cli = await s.send(append, { body });
    expect(cli.status).toBe(201);
    // Reads stay open to any origin: without CORS headers a foreign page cannot see the answer.
    const read = await s.send('/api/v1/ns/default/head', { headers: { origin: 'http://evil.example' } });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses Host names other than loopback ones (DNS rebinding) and accepts loopback ones', async () => {
    const before = await heads(s.store, ['default']);
    for (const host of [
      'evil.example:4700',
      'evil.example',
      '127.0.0.1.evil.example',
      'localhost.evil.example:4700',
      '0.0.0.0:4700',
    ]) {
      const read = await s.send('/api/v1/ns/default/events', { headers: { host } });
      expect(read.status, host).toBe(403);
      expect(await expectClientError(read, host)).toBe('FORBIDDEN');
      const write = await s.send(append, { body, headers: { host } });
      expect(write.status, host).toBe(403);
    }
    expect(await heads(s.store, ['default'])).toEqual(before);
    for (const host of ['127.0.0.1:4700', 'localhost:4700', 'LOCALHOST', '[::1]:4700', '127.1.2.3']) {
      expect((await s.send('/api/v1/ns/default/head', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('checks neither Host nor Origin when tokens protect the API (a foreign page has no token)', async () => {
    const guarded = inProcessServer({
      store: s.store,
      tokens: [{ token: 't0ken', namespaces: ['default'] }],
    });
    const res = await guarded.send('/api/v1/ns/default/head', {
      token: 't0ken',
      headers: { host: 'ordo.example:4700' },
    });
    expect(res.status).toBe(200);
    const anonymous = await guarded.send('/api/v1/ns/default/head', {
      headers: { host: 'ordo.example:4700' },
    });
    expect(anonymous.status).toBe(401);
    // Behind a reverse proxy `Host` is often the upstream's: the console's POSTs still work.
    const proxied = await guarded.send(append, {
      token: 't0ken',
      body,
      headers: { origin: 'https://ordo.example', host: '127.0.0.1:4700' },
    });
    expect(proxied.status).toBe(201);
    const forged = await guarded.send(append, { body, headers: { origin: 'https://evil.example' } });
    expect(forged.status).toBe(401);
  });
});
