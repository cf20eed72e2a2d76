import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, streamPath } from './server-harness.js';
import { openSse } from './sse-client.js';

describe('bearer tokens scoped to namespaces', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      tokens: [
        { token: 'token-a', namespaces: ['tenant-a'] },
        { token: 'token-b', namespaces: ['tenant-b', 'shared'] },
        { token: 'token-admin', namespaces: '*' },
      ],
    });
  });
  afterAll(() => h.close());

  const body = { json: { events: [{ type: 'Secret', data: { v: 1 } }] } };

  it('requires a valid token (401) for every API route', async () => {
    for (const [path, init] of [
      [streamPath('s', 'tenant-a'), body],
      [streamPath('s', 'tenant-a'), {}],
      ['/api/v1/ns/tenant-a/events', {}],
      ['/api/v1/ns/tenant-a/streams', {}],
      ['/api/v1/ns/tenant-a/subscribe', {}],
      ['/api/v1/ns/tenant-a/projections', {}],
    ] as const) {
      const missing = await h.request(path, init);
      expect(missing.status, path).toBe(401);
      expect((await missing.json()).error.code).toBe('UNAUTHORIZED');
      const wrong = await h.request(path, { ...init, token: 'token-x' });
      expect(wrong.status, path).toBe(401);
    }
    expect(await h.store.withNamespace('tenant-a').streamVersion('s')).toBe(0);
    // Health, metrics and console stay reachable for probes and the login screen.
    expect((await h.request('/health')).status).toBe(200);
    expect((await h.request('/api/v1/info')).status).toBe(200);
    expect((await (await h.request('/api/v1/info')).json()).authRequired).toBe(true);
  });

  it('never lets a token read or write another namespace (403), SSE included', async () => {
    expect((await h.request(streamPath('s', 'tenant-a'), { ...body, token: 'token-a' })).status).toBe(201);
    for (const [path, init] of [
      [streamPath('s', 'tenant-a'), body],
      [streamPath('s', 'tenant-a'), {}],
      [`${streamPath('s', 'tenant-a')}/version`, {}],
      ['/api/v1/ns/tenant-a/events', {}],
      ['/api/v1/ns/tenant-a/streams', {}],
      ['/api/v1/ns/tenant-a/stats', {}],
    ] as const) {
      const res = await h.request(path, { ...init, token: 'token-b' });
      expect(res.status, path).toBe(403);
      expect((await res.json()).error).toMatchObject({ code: 'FORBIDDEN', namespace: 'tenant-a' });
    }
    const sse = await openSse(`${h.url}/api/v1/ns/tenant-a/subscribe`, { authorization: 'Bearer token-b' });
    expect(sse.status).toBe(403);
    sse.close();
    expect(await h.store.withNamespace('tenant-a').streamVersion('s')).toBe(1);

    // Same stream id in b's namespace is a different, empty stream.
    const inB = await (await h.request(streamPath('s', 'tenant-b'), { token: 'token-b' })).json();
    expect(inB.events).toEqual([]);
    const shared = await h.request(streamPath('s', 'shared'), { ...body, token: 'token-b' });
    expect(shared.status).toBe(201);
  });

  it('streams SSE to a token of the namespace and to a wildcard token', async () => {
    for (const token of ['token-a', 'token-admin']) {
      const sse = await openSse(`${h.url}/api/v1/ns/tenant-a/subscribe`, {
        authorization: `Bearer ${token}`,
      });
      expect(sse.status).toBe(200);
      const [m] = await sse.waitFor(1);
      sse.close();
      expect(JSON.parse(m!.data)).toMatchObject({ streamId: 's', type: 'Secret' });
    }
  });

  it('binds an open server (no tokens) to loopback only', async () => {
    const { createServer } = await import('../../src/server/index.js');
    const warnings: string[] = [];
    const server = createServer({
      store: h.store,
      logger: { info() {}, error() {}, warn: (m: string) => warnings.push(m) },
    });
    const address = await server.listen({ port: 0, host: '0.0.0.0' });
    await server.close();
    expect(address.host).toBe('127.0.0.1');
    expect(warnings.some((w) => w.includes('no tokens'))).toBe(true);
  });

  it('rejects malformed token configuration with a typed error', async () => {
    const { createServer } = await import('../../src/server/index.js');
    for (const tokens of [
      [{ token: '', namespaces: ['a'] }],
      [{ token: 'has space', namespaces: '*' as const }],
      [{ token: 't', namespaces: [] }],
    ]) {
      expect(() => createServer({ store: h.store, tokens })).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT' }),
      );
    }
  });
});
