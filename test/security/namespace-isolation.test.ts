import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryStore } from '../../src/index.js';
import {
  createProjectionRegistry,
  defineProjection,
  type ProjectionRegistry,
} from '../../src/projections/index.js';
import {
  bodyText,
  concreteRoutes,
  expectClientError,
  heads,
  type InProcessServer,
  inProcessServer,
  readSseUntil,
} from './security-harness.js';

/**
 * Namespace isolation and token checks across the whole API, enumerated from the router table so
 * a route added later is covered without touching this file. Namespace `victim` holds secrets
 * (guessable names marked `SECRET-B`; data, metadata and a stream the attacker never names
 * marked `HIDDEN-B`) and the only projection registry; the attacker holds a token for `attacker` only.
 */

const A = 'attacker';
const B = 'victim';
/** Names an attacker may guess and send (they can come back as echoes of its own input). */
const SECRET = 'SECRET-B';
/** Content an attacker never sends: seeing it in any answer to the attacker is a leak. */
const HIDDEN = 'HIDDEN-B';
const tokens = [
  { token: 'token-a', namespaces: [A] },
  { token: 'token-b', namespaces: [B] },
  { token: 'token-admin', namespaces: '*' as const },
];

const counter = defineProjection<{ n: number }>({
  name: 'victim-counter',
  version: 1,
  init: () => ({ n: 0 }),
  handlers: { [`${SECRET}-type`]: (state) => ({ n: state.n + 1 }) },
});

/** The routes every client may call without a token; anything else must be namespaced and guarded. */
const PUBLIC_ROUTES = [
  'GET /health',
  'GET /metrics',
  'GET /api/v1/info',
  'GET /',
  'GET /console',
  'GET /console/:file',
];

let s: InProcessServer;
let registry: ProjectionRegistry;
beforeAll(async () => {
  const store = createInMemoryStore();
  registry = createProjectionRegistry({ store: store.withNamespace(B), projections: [counter] });
  await registry.start();
  s = inProcessServer({ store, projections: registry, tokens, consoleDir: undefined });
  await store
    .withNamespace(B)
    .append(`${SECRET}-stream`, [
      { type: `${SECRET}-type`, data: { secret: HIDDEN }, metadata: { m: HIDDEN }, tags: [`${SECRET}-tag`] },
    ]);
  await store
    .withNamespace(B)
    .append(`${HIDDEN}-stream`, [{ type: `${HIDDEN}-type`, data: { n: 1 }, tags: [HIDDEN] }]);
  await store.withNamespace(A).append('mine', [{ type: 'Mine', data: { mark: 'MARK-A1' } }]);
  await registry.waitForCatchUp();
});
afterAll(async () => {
  await s.server.close();
  await registry.stop();
  await s.store.close();
});

const routesFor = (ns: string) =>
  concreteRoutes(s.server, ns, { streamId: `${SECRET}-stream`, projection: 'victim-counter' });

async function rebuildsStarted(): Promise<number> {
  const res = await s.send(`/api/v1/ns/${B}/projections`, { token: 'token-admin' });
  const body = await res.json();
  return body.projections.filter((p: { rebuild: unknown }) => p.rebuild !== null).length;
}

describe('router table', () => {
  it('has no route outside /api/v1/ns/:namespace/ except the documented public ones', () => {
    const routes = s.server.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`);
    const outside = routes.filter((r) => !r.split(' ')[1]!.startsWith('/api/v1/ns/:namespace/'));
    expect(outside.sort()).toEqual([...PUBLIC_ROUTES].sort());
    // Stream, read-all, listing, SSE, stats and projection routes are all namespaced.
    expect(routes.length - outside.length).toBeGreaterThanOrEqual(14);
  });

  it('public routes carry no event data of any namespace', async () => {
    for (const path of ['/health', '/metrics', '/api/v1/info']) {
      const text = await (await s.send(path)).text();
      expect(text, path).not.toContain(SECRET);
      expect(text, path).not.toContain(HIDDEN);
    }
  });
});

describe('token checks on every namespaced route (SSE and the console routes included)', () => {
  it('401 without a token or with an unknown one, 403 with a token of another namespace; nothing written or rebuilt', async () => {
    const before = await heads(s.store, [A, B]);
    const routes = routesFor(B).filter((r) => r.pattern.startsWith('/api/v1/ns/'));
    expect(routes.map((r) => r.pattern)).toContain('/api/v1/ns/:namespace/subscribe');
    for (const route of routes) {
      const init = { method: route.method, ...(route.body ? { body: route.body } : {}) };
      const label = `${route.method} ${route.path}`;
      const none = await s.send(route.path, init);
      expect(none.status, label).toBe(401);
      expect(await expectClientError(none, label)).toBe('UNAUTHORIZED');
      const unknown = await s.send(route.path, { ...init, token: 'token-b-guess' });
      expect(unknown.status, label).toBe(401);
      await expectClientError(unknown, label);
      const wrong = await s.send(route.path, { ...init, token: 'token-a' });
      expect(wrong.status, label).toBe(403);
      expect(await expectClientError(wrong, label)).toBe('FORBIDDEN');
    }
    expect(await heads(s.store, [A, B])).toEqual(before);
    expect(await rebuildsStarted()).toBe(0);
  });

  it('the right token reaches every route (so the checks above can fail)', async () => {
    for (const route of routesFor(B).filter((r) => r.pattern.startsWith('/api/v1/ns/'))) {
      // The rebuild is started last, below, so the GET of its progress is still a 404 here.
      if (route.method === 'POST' && route.pattern.endsWith('/rebuild')) continue;
      const res = await s.send(route.path, {
        method: route.method,
        token: 'token-b',
        ...(route.body ? { body: route.body } : {}),
      });
      const label = `${route.method} ${route.path}`;
      expect([401, 403], label).not.toContain(res.status);
      if (!route.pattern.endsWith('/:name/rebuild')) expect(res.status, label).toBeLessThan(300);
      await bodyText(res);
    }
  });
});

describe('paths probed without a token', () => {
  it('fuzz: no method and path reaches a namespaced route without a token, and none gives a 5xx', async () => {
    const segment = fc.constantFrom(
      'api',
      'v1',
      'ns',
      B,
      A,
      'streams',
      'stream',
      'events',
      'subscribe',
      'projections',
      'victim-counter',
      'rebuild',
      'version',
      'head',
      'stats',
      'info',
      'health',
      'metrics',
      'console',
      '',
      '.',
      '..',
      '%2E%2E',
      '%2F',
      'API',
      'V1',
      'NS',
      '%61pi',
      'api%2Fv1',
      '*',
      ';',
      'x;y',
      '%00',
      '%FF',
      'index.html',
    );
    const before = await heads(s.store, [A, B]);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
        fc.array(segment, { minLength: 1, maxLength: 7 }),
        fc.constantFrom(
          '',
          '?id=x',
          `?namespace=${A}`,
          '?after=0',
          '?token=token-b',
          `?authorization=Bearer%20token-b`,
        ),
        async (method, segments, query) => {
          const path = `/${segments.join('/')}${query}`;
          const res = await s.send(path, {
            method,
            ...(method === 'POST' || method === 'PUT' || method === 'PATCH'
              ? { body: '{"events":[{"type":"T","data":1}]}' }
              : {}),
          });
          const text = await bodyText(res);
          expect(res.status, `${method} ${path}`).toBeLessThan(500);
          if (res.status < 300) {
            // Only the public routes answer without a token.
            const url = new URL(`http://127.0.0.1${path}`);
            expect(['/health', '/metrics', '/api/v1/info', '/', '/console'], `${method} ${path}`).toContain(
              url.pathname.startsWith('/console/') ? '/console' : url.pathname,
            );
            expect(text).not.toContain(HIDDEN);
          }
        },
      ),
      { numRuns: 400 },
    );
    expect(await heads(s.store, [A, B])).toEqual(before);
  });
});

describe('a token for one namespace never sees another', () => {
  it('reads, listings, head, stats and projections of its own namespace show nothing of the other', async () => {
    for (const path of [
      `/api/v1/ns/${A}/events?limit=1000`,
      `/api/v1/ns/${A}/events?type=${SECRET}-type`,
      `/api/v1/ns/${A}/events?tag=${SECRET}-tag`,
      `/api/v1/ns/${A}/streams`,
      `/api/v1/ns/${A}/streams?search=secret`,
      `/api/v1/ns/${A}/streams/${SECRET}-stream`,
      `/api/v1/ns/${A}/stream?id=${SECRET}-stream`,
      `/api/v1/ns/${A}/streams/${SECRET}-stream/version`,
      `/api/v1/ns/${A}/head`,
      `/api/v1/ns/${A}/stats`,
      `/api/v1/ns/${A}/projections`,
    ]) {
      const res = await s.send(path, { token: 'token-a' });
      const text = await res.text();
      expect(res.status, path).toBe(200);
      expect(text, path).not.toContain(HIDDEN);
      expect(text, path).not.toContain('victim-counter');
      if (!path.includes(SECRET)) expect(text, path).not.toContain(SECRET);
    }
    for (const path of [
      `/api/v1/ns/${A}/projections/victim-counter`,
      `/api/v1/ns/${A}/projections/victim-counter/rebuild`,
    ]) {
      for (const method of ['GET', 'POST']) {
        const res = await s.send(path, { token: 'token-a', method });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(await res.text()).not.toContain(HIDDEN);
      }
    }
    expect(await rebuildsStarted()).toBe(0);
  });

  it('SSE of its own namespace never delivers the other namespace, in catch-up or live', async () => {
    const res = await s.send(`/api/v1/ns/${A}/subscribe`, { token: 'token-a' });
    expect(res.status).toBe(200);
    const reader = readSseUntil(res, (text) => text.includes('MARK-A2'));
    // Live: a secret event in B, then a marker in A. Were namespaces shared, the secret would come first.
    await s.send(`/api/v1/ns/${B}/streams/live`, {
      token: 'token-b',
      body: JSON.stringify({ events: [{ type: `${SECRET}-type`, data: { secret: HIDDEN } }] }),
    });
    await s.send(`/api/v1/ns/${A}/streams/mine`, {
      token: 'token-a',
      body: JSON.stringify({ events: [{ type: 'Mine', data: { mark: 'MARK-A2' } }] }),
    });
    const text = await reader;
    expect(text).toContain('MARK-A1');
    expect(text).not.toContain(HIDDEN);
    expect(text).not.toContain(SECRET);
  });

  it('fuzz: tampered namespaces, ids and parameters never reach the other namespace', async () => {
    const nsVariant = fc.constantFrom(
      A,
      B,
      'Victim',
      'VICTIM',
      '%76ictim', // percent-encoded `victim`
      `${A}%2F..%2F${B}`,
      `${A}%2F${B}`,
      `${B}%00`,
      `${A},${B}`,
      '*',
      '%2A',
      '',
      `${B}%20`,
      `${A}%2F%2E%2E%2F${B}`,
    );
    const extra = fc.constantFrom(
      '',
      `namespace=${B}`,
      `ns=${B}`,
      `id=${SECRET}-stream`,
      `type=${SECRET}-type`,
      `tag=${SECRET}-tag`,
    );
    const template = fc.constantFrom(...routesFor('NS'));
    const before = await heads(s.store, [B]);
    await fc.assert(
      fc.asyncProperty(
        template,
        nsVariant,
        extra,
        fc.constantFrom('token-a', undefined),
        async (route, ns, more, token) => {
          let path = route.path.replace('/ns/NS', `/ns/${ns}`);
          if (more) path += (path.includes('?') ? '&' : '?') + more;
          const res = await s.send(path, {
            method: route.method,
            ...(token ? { token } : {}),
            ...(route.body ? { body: route.body } : {}),
          });
          const text = res.headers.get('content-type')?.startsWith('text/event-stream')
            ? // Unfiltered, catch-up delivers A's first event; a filtered stream may have nothing to send.
              await readSseUntil(
                res,
                (t) => t.includes('MARK-A1') || (/type=|tag=/.test(more) && t.includes(': subscribed')),
              )
            : await res.text();
          expect(res.status, path).toBeLessThan(500);
          if (route.pattern.startsWith('/api/v1/ns/')) {
            if (res.status < 300) {
              expect(token, path).toBe('token-a');
              expect(decodeURIComponent(ns), path).toBe(A);
            }
            expect(text, path).not.toContain(HIDDEN);
          }
        },
      ),
      { numRuns: 250 },
    );
    expect(await heads(s.store, [B])).toEqual(before);
    expect(await rebuildsStarted()).toBe(0);
  });

  it('the wildcard token and the namespace token can rebuild the projection; the other cannot', async () => {
    const denied = await s.send(`/api/v1/ns/${B}/projections/victim-counter/rebuild`, {
      method: 'POST',
      token: 'token-a',
    });
    expect(denied.status).toBe(403);
    expect(await rebuildsStarted()).toBe(0);
    const started = await s.send(`/api/v1/ns/${B}/projections/victim-counter/rebuild`, {
      method: 'POST',
      token: 'token-b',
    });
    expect(started.status).toBe(202);
    expect(await rebuildsStarted()).toBe(1);
    const progress = await s.send(`/api/v1/ns/${B}/projections/victim-counter/rebuild`, { token: 'token-a' });
    expect(progress.status).toBe(403);
    await s.server.close(); // waits for the rebuild
  });
});
