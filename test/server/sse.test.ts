import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, streamPath } from './server-harness.js';
import { openSse } from './sse-client.js';

const append = (h: Harness, streamId: string, n: number, ns = 'default') =>
  h.request(streamPath(streamId, ns), {
    json: { events: Array.from({ length: n }, (_, i) => ({ type: 'Tick', data: { i } })) },
  });

describe('SSE subscriptions', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('delivers catch-up then live events in global order with positions as ids', async () => {
    await append(h, 'clock', 3);
    const sse = await openSse(`${h.url}/api/v1/ns/default/subscribe`);
    expect(sse.status).toBe(200);
    await sse.waitFor(3);
    await append(h, 'clock', 2);
    const messages = await sse.waitFor(5);
    sse.close();
    const events = messages.map((m) => JSON.parse(m.data));
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
    expect(messages.map((m) => m.id)).toEqual(events.map((e) => e.position));
    expect(messages.every((m) => m.event === 'event')).toBe(true);
  });

  it('resumes after Last-Event-ID or ?after= without loss or duplication', async () => {
    const ns = 'resume';
    await append(h, 'r', 4, ns);
    const first = await openSse(`${h.url}/api/v1/ns/${ns}/subscribe`);
    const seen = await first.waitFor(2);
    first.close();
    const lastId = seen[1]!.id!;
    await append(h, 'r', 3, ns);

    const byHeader = await openSse(`${h.url}/api/v1/ns/${ns}/subscribe`, { 'last-event-id': lastId });
    const resumed = await byHeader.waitFor(5);
    const versions = (list: { data: string }[]) => list.map((m) => JSON.parse(m.data).version);
    expect(versions([...seen, ...resumed])).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await append(h, 'r', 1, ns);
    expect(versions(await byHeader.waitFor(6))).toEqual([3, 4, 5, 6, 7, 8]);
    byHeader.close();

    const byQuery = await openSse(
      `${h.url}/api/v1/ns/${ns}/subscribe?after=${encodeURIComponent(resumed[4]!.id!)}`,
    );
    expect(versions(await byQuery.waitFor(1))).toEqual([8]);
    // The header wins over the parameter (browsers send it when they reconnect).
    byQuery.close();
    const both = await openSse(`${h.url}/api/v1/ns/${ns}/subscribe?after=0`, {
      'last-event-id': resumed[4]!.id!,
    });
    expect(versions(await both.waitFor(1))).toEqual([8]);
    both.close();
  });

  it('filters by type and tag', async () => {
    const ns = 'filtered';
    await h.request(streamPath('f', ns), {
      json: {
        events: [
          { type: 'A', data: 1 },
          { type: 'B', data: 2, tags: ['x'] },
          { type: 'B', data: 3 },
        ],
      },
    });
    const sse = await openSse(`${h.url}/api/v1/ns/${ns}/subscribe?type=B&tag=x`);
    const [m] = await sse.waitFor(1);
    await append(h, 'f', 1, ns);
    await h.request(streamPath('f', ns), { json: { events: [{ type: 'B', data: 4, tags: ['x'] }] } });
    const all = await sse.waitFor(2);
    sse.close();
    expect(JSON.parse(m!.data).data).toBe(2);
    expect(all.map((x) => JSON.parse(x.data).data)).toEqual([2, 4]);
  });

  it('rejects a bad position with 400 before streaming', async () => {
    const res = await h.request('/api/v1/ns/default/subscribe?after=abc');
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('INVALID_INPUT');
    const header = await fetch(`${h.url}/api/v1/ns/default/subscribe`, {
      headers: { 'last-event-id': '1.x' },
    });
    expect(header.status).toBe(400);
  });

  it('counts open SSE clients in /metrics', async () => {
    const gauge = async () => {
      const text = await (await h.request('/metrics')).text();
      return Number(/^ordo_sse_subscriptions (\d+)$/m.exec(text)?.[1]);
    };
    const base = await gauge();
    const a = await openSse(`${h.url}/api/v1/ns/default/subscribe`);
    const b = await openSse(`${h.url}/api/v1/ns/default/subscribe`);
    await a.waitFor(1);
    await b.waitFor(1);
    expect(await gauge()).toBe(base + 2);
    a.close();
    b.close();
    for (let i = 0; i < 50 && (await gauge()) !== base; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await gauge()).toBe(base);
  });

  it('ends open streams when the server closes', async () => {
    const own = await startHarness();
    const sse = await openSse(`${own.url}/api/v1/ns/default/subscribe`);
    expect(sse.status).toBe(200);
    await own.close();
    const text = await own.server.metrics.registry.getSingleMetricAsString('ordo_sse_subscriptions');
    expect(text).toMatch(/^ordo_sse_subscriptions 0$/m);
    sse.close();
  });
});
