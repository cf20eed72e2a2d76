import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, streamPath, streamQueryPath } from './server-harness.js';

const event = (type: string, data: unknown = {}, extra: Record<string, unknown> = {}) => ({
  type,
  data,
  ...extra,
});

describe('HTTP API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('reports health and serves Prometheus metrics', async () => {
    const health = await h.request('/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', namespace: 'default' });
    const metrics = await h.request('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    for (const name of [
      'ordo_appends_total',
      'ordo_conflicts_total',
      'ordo_append_duration_seconds',
      'ordo_sse_subscriptions',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('appends, reads a stream, its version and the global log', async () => {
    const res = await h.request(streamPath('order-1'), {
      json: {
        events: [
          event('Placed', { total: 3 }, { metadata: { by: 'ann' }, tags: ['order:1'] }),
          event('Paid'),
        ],
        expectedVersion: 'no_stream',
      },
    });
    expect(res.status).toBe(201);
    const result = await res.json();
    expect(result).toMatchObject({ streamId: 'order-1', firstVersion: 1, lastVersion: 2 });
    expect(typeof result.position).toBe('string');

    const read = await (await h.request(streamPath('order-1'))).json();
    expect(read.events.map((e: { type: string; version: number }) => [e.type, e.version])).toEqual([
      ['Placed', 1],
      ['Paid', 2],
    ]);
    expect(read.events[0]).toMatchObject({
      data: { total: 3 },
      metadata: { by: 'ann' },
      tags: ['order:1'],
      streamId: 'order-1',
    });
    expect(read.malformed).toEqual([]);

    expect(read.nextFromVersion).toBeNull();
    const backwards = await (await h.request(`${streamPath('order-1')}?direction=backwards&limit=1`)).json();
    expect(backwards.events.map((e: { version: number }) => e.version)).toEqual([2]);
    expect(backwards.nextFromVersion).toBe(1);
    const page = await (await h.request(`${streamPath('order-1')}?limit=1`)).json();
    expect(page.events.map((e: { version: number }) => e.version)).toEqual([1]);
    expect(page.nextFromVersion).toBe(2);
    const rest = await (await h.request(`${streamPath('order-1')}?limit=1&fromVersion=2`)).json();
    expect(rest.events.map((e: { version: number }) => e.version)).toEqual([2]);

    expect(await (await h.request(`${streamPath('order-1')}/version`)).json()).toEqual({
      streamId: 'order-1',
      version: 2,
    });
    expect(await (await h.request(`${streamPath('unknown')}/version`)).json()).toEqual({
      streamId: 'unknown',
      version: 0,
    });
    expect((await (await h.request(streamPath('unknown'))).json()).events).toEqual([]);

    const all = await (await h.request('/api/v1/ns/default/events?type=Paid')).json();
    expect(all.events.map((e: { type: string }) => e.type)).toEqual(['Paid']);
    expect(all.nextAfter).toBe(result.position);
    const head = await (await h.request('/api/v1/ns/default/head')).json();
    expect(head.position).toBe(result.position);
  });

  it('keeps arbitrary Unicode stream ids distinct (a/b, %41, spaces, emoji, *, >)', async () => {
    const ids = ['a/b', 'a.b', 'a_b', 'a b', '%41', 'A', 'ü 🎉', 'a?b#c', '*', '>', '.x'];
    for (const id of ids) {
      const res = await h.request(streamPath(id), {
        json: { events: [event('Named', { id })], expectedVersion: 'no_stream' },
      });
      expect(res.status, id).toBe(201);
      expect((await res.json()).streamId).toBe(id);
    }
    for (const id of ids) {
      const read = await (await h.request(streamPath(id))).json();
      expect(read.streamId).toBe(id);
      expect(read.events.map((e: { data: { id: string } }) => e.data.id)).toEqual([id]);
    }
    // `.` and `..` are resolved away by URL parsers as path segments: the ?id= form carries them.
    for (const id of ['.', '..']) {
      const res = await h.request(streamQueryPath(id), { json: { events: [event('Named', { id })] } });
      expect(res.status, id).toBe(201);
      const read = await (await h.request(streamQueryPath(id))).json();
      expect(read.events.map((e: { data: { id: string } }) => e.data.id)).toEqual([id]);
      expect((await (await h.request(streamQueryPath(id, 'default', '/version'))).json()).version).toBe(1);
    }
    const list = await (await h.request('/api/v1/ns/default/streams?limit=1000')).json();
    for (const id of ids) expect(list.streams.map((s: { streamId: string }) => s.streamId)).toContain(id);
  });

  it('lists streams with search and paging', async () => {
    for (const n of [1, 2, 3]) {
      await h.request(streamPath(`cart-${n}`), { json: { events: [event('Opened')] } });
    }
    const page1 = await (await h.request('/api/v1/ns/default/streams?search=CART-&limit=2')).json();
    expect(page1.streams.map((s: { streamId: string }) => s.streamId)).toEqual(['cart-1', 'cart-2']);
    expect(page1.total).toBe(3);
    expect(page1.nextAfter).toBe('cart-2');
    const page2 = await (
      await h.request(`/api/v1/ns/default/streams?search=cart-&limit=2&after=${page1.nextAfter}`)
    ).json();
    expect(page2.streams.map((s: { streamId: string }) => s.streamId)).toEqual(['cart-3']);
    expect(page2.nextAfter).toBeNull();
    expect(page2.streams[0]).toMatchObject({ version: 1, lastType: 'Opened' });
  });

  it('answers version conflicts with 409 and the conflict fields', async () => {
    await h.request(streamPath('seat-1'), { json: { events: [event('Booked')] } });
    const res = await h.request(streamPath('seat-1'), {
      json: { events: [event('Booked')], expectedVersion: 0 },
    });
    expect(res.status).toBe(409);
    expect((await res.json()).error).toMatchObject({
      code: 'VERSION_CONFLICT',
      streamId: 'seat-1',
      expectedVersion: 0,
      currentVersion: 1,
    });
    const exists = await h.request(streamPath('nobody'), {
      json: { events: [event('X')], expectedVersion: 'stream_exists' },
    });
    expect(exists.status).toBe(409);
    expect((await exists.json()).error).toMatchObject({
      code: 'VERSION_CONFLICT',
      expectedVersion: 'stream_exists',
      currentVersion: 0,
    });
    expect((await (await h.request(`${streamPath('seat-1')}/version`)).json()).version).toBe(1);
  });

  it('answers failed append conditions with 409 and the condition', async () => {
    const first = await (
      await h.request(streamPath('user-ann'), {
        json: { events: [event('Registered', {}, { tags: ['username:ann'] })] },
      })
    ).json();
    const condition = { failIfEventsMatch: { types: ['Registered'], tags: ['username:ann'] } };
    const res = await h.request(streamPath('user-ann-2'), {
      json: { events: [event('Registered', {}, { tags: ['username:ann'] })], condition },
    });
    expect(res.status).toBe(409);
    const body = await res.json();
    expect(body.error).toMatchObject({
      code: 'APPEND_CONDITION_FAILED',
      streamId: 'user-ann-2',
      condition: { failIfEventsMatch: [condition.failIfEventsMatch] },
    });
    const after = await h.request(streamPath('user-ann-2'), {
      json: {
        events: [event('Renamed', {}, { tags: ['username:ann'] })],
        condition: { ...condition, after: first.position },
      },
    });
    expect(after.status).toBe(201);
  });

  it('treats a re-sent append with the same event ids as the original (idempotent)', async () => {
    const body = {
      events: [event('Charged', { cents: 5 }, { id: 'charge-1' })],
      expectedVersion: 'no_stream',
    };
    const a = await h.request(streamPath('payment-1'), { json: body });
    const b = await h.request(streamPath('payment-1'), { json: body });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(await b.json()).toEqual(await a.json());
    expect((await (await h.request(`${streamPath('payment-1')}/version`)).json()).version).toBe(1);
  });

  it('rejects bad input with 400 and writes nothing', async () => {
    const headBefore = (await (await h.request('/api/v1/ns/default/head')).json()).position;
    const bad: [string, RequestInit & { json?: unknown }, string][] = [
      [streamPath('bad-1'), { json: {} }, 'events'],
      [streamPath('bad-1'), { json: { events: [] } }, 'events'],
      [streamPath('bad-1'), { json: { events: [event('A')], expectedVersion: 'maybe' } }, 'expectedVersion'],
      [streamPath('bad-1'), { json: { events: [event('A')], expectedVersion: -1 } }, 'expectedVersion'],
      [streamPath('bad-1'), { json: { events: [{ type: 'A' }] } }, 'events[0].data'],
      [streamPath('bad-1'), { json: { events: [event('')] } }, 'events[0].type'],
      [
        streamPath('bad-1'),
        { json: { events: [event('A'), event('B', {}, { tags: [''] })] } },
        'events[1].tags[0]',
      ],
      [streamPath('bad-1'), { json: { events: [event('A')], unknown: 1 } }, ''],
      [streamPath('x'.repeat(600)), { json: { events: [event('A')] } }, 'streamId'],
      [streamPath('bad-1'), { json: { events: [event('A', { blob: 'x'.repeat(1_100_000) })] } }, 'events[0]'],
      [
        streamPath('bad-1'),
        { method: 'POST', body: '{"events": [', headers: { 'content-type': 'application/json' } },
        'body',
      ],
    ];
    for (const [path, init, field] of bad) {
      const res = await h.request(path, init);
      expect(res.status, JSON.stringify(init)).toBe(400);
      const { error } = await res.json();
      expect(error.code).toBe('INVALID_INPUT');
      expect(typeof error.message).toBe('string');
      expect(error.field).toBe(field);
    }
    for (const q of ['fromVersion=abc', 'direction=sideways', 'limit=-1', 'bogus=1']) {
      const res = await h.request(`${streamPath('order-1')}?${q}`);
      expect(res.status, q).toBe(400);
      expect((await res.json()).error.code).toBe('INVALID_INPUT');
    }
    for (const q of ['limit=0', 'limit=5000', 'limit=x']) {
      const res = await h.request(`/api/v1/ns/default/streams?${q}`);
      expect(res.status, q).toBe(400);
    }
    expect((await h.request('/api/v1/ns/default/events?limit=0')).status).toBe(400);
    const badAfter = await h.request('/api/v1/ns/default/events?after=not-a-position');
    expect(badAfter.status).toBe(400);
    const badNs = await h.request('/api/v1/ns/bad%20ns/events');
    expect(badNs.status).toBe(400);
    expect((await (await h.request('/api/v1/ns/default/head')).json()).position).toBe(headBefore);
    expect((await (await h.request(`${streamPath('bad-1')}/version`)).json()).version).toBe(0);
  });

  it('answers unknown routes and projections with 404 JSON', async () => {
    const res = await h.request('/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('NOT_FOUND');
    const projection = await h.request('/api/v1/ns/default/projections/nope');
    expect(projection.status).toBe(404);
    expect((await projection.json()).error.code).toBe('NOT_FOUND');
    const list = await (await h.request('/api/v1/ns/default/projections')).json();
    expect(list).toEqual({ available: false, projections: [] });
  });

  it('counts appends, events, conflicts and client retries in /metrics', async () => {
    const ns = 'metered';
    const p = (id: string) => streamPath(id, ns);
    await h.request(p('m-1'), { json: { events: [event('A'), event('B')] } });
    await h.request(p('m-1'), { json: { events: [event('C')], expectedVersion: 0 } });
    await h.request(p('m-1'), {
      json: { events: [event('C')], expectedVersion: 2 },
      headers: { 'ordo-attempt': '2' },
    });
    const text = await (await h.request('/metrics')).text();
    expect(text).toContain('ordo_appends_total{namespace="metered"} 2');
    expect(text).toContain('ordo_events_appended_total{namespace="metered"} 3');
    expect(text).toContain('ordo_conflicts_total{namespace="metered",kind="version"} 1');
    expect(text).toContain('ordo_retries_total{namespace="metered"} 1');
    expect(text).toContain('ordo_append_duration_seconds_count{namespace="metered"} 3');
    const stats = await (await h.request(`/api/v1/ns/${ns}/stats`)).json();
    const sum = (k: string) => stats.series.reduce((n: number, s: Record<string, number>) => n + s[k]!, 0);
    expect(stats.series).toHaveLength(60);
    expect([sum('appends'), sum('events'), sum('conflicts'), sum('retries')]).toEqual([2, 3, 1, 1]);
  });
});

describe('HTTP API limits and failures', () => {
  it('rejects an oversized body with 413 and writes nothing', async () => {
    const h = await startHarness({ maxBodyBytes: 1024 });
    try {
      const res = await h.request(streamPath('big'), {
        json: { events: [event('Big', { blob: 'x'.repeat(4096) })] },
      });
      expect(res.status).toBe(413);
      expect((await res.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
      // Chunked (no content-length) bodies are measured while read.
      const chunked = await fetch(h.url + streamPath('big'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new Blob([JSON.stringify({ events: [event('Big', { blob: 'y'.repeat(4096) })] })]).stream(),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(await h.store.streamVersion('big')).toBe(0);
      const ok = await h.request(streamPath('big'), { json: { events: [event('Small')] } });
      expect(ok.status).toBe(201);
    } finally {
      await h.close();
    }
  });

  it('answers 503 when the store is closed', async () => {
    const h = await startHarness();
    try {
      await h.store.close();
      const res = await h.request(streamPath('s'), { json: { events: [event('A')] } });
      expect(res.status).toBe(503);
      expect((await res.json()).error.code).toBe('STORE_CLOSED');
      expect((await h.request('/health')).status).toBe(503);
    } finally {
      await h.server.close();
    }
  });
});
