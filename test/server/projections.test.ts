import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryStore } from '../../src/index.js';
import {
  createProjectionRegistry,
  defineProjection,
  type ProjectionRegistry,
} from '../../src/projections/index.js';
import { type Harness, startHarness, streamPath } from './server-harness.js';

const seatCount = defineProjection<{ booked: number }>({
  name: 'seat-count',
  version: 1,
  init: () => ({ booked: 0 }),
  handlers: { SeatBooked: (state) => ({ booked: state.booked + 1 }) },
});

async function until<T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('projection routes', () => {
  let h: Harness;
  let registry: ProjectionRegistry;
  beforeAll(async () => {
    const store = createInMemoryStore();
    registry = createProjectionRegistry({ store, projections: [seatCount] });
    await registry.start();
    h = await startHarness({ store, projections: registry });
  });
  afterAll(async () => {
    await h.server.close();
    await registry.stop();
    await h.store.close();
  });

  it('lists projections with state, position, lag and errors', async () => {
    const seats = Array.from({ length: 25 }, (_, i) => ({ type: 'SeatBooked', data: { seat: i + 1 } }));
    await h.request(streamPath('show-1'), { json: { events: seats } });
    await registry.waitForCatchUp();
    const body = await (await h.request('/api/v1/ns/default/projections')).json();
    expect(body.available).toBe(true);
    expect(body.projections).toHaveLength(1);
    expect(body.projections[0]).toMatchObject({
      name: 'seat-count',
      lagEvents: 0,
      processed: 25,
      errors: 0,
      rebuild: null,
    });
    expect(body.projections[0].position).toBe(
      (await (await h.request('/api/v1/ns/default/head')).json()).position,
    );
    const one = await (await h.request('/api/v1/ns/default/projections/seat-count')).json();
    expect(one).toMatchObject({ name: 'seat-count', processed: 25 });
    expect(await registry.state('seat-count')).toEqual({ booked: 25 });

    const metrics = await (await h.request('/metrics')).text();
    expect(metrics).toContain('ordo_projection_lag_events{projection="seat-count"} 0');
    expect(metrics).toContain('ordo_projection_errors{projection="seat-count"} 0');
    expect(metrics).toContain('ordo_projection_processed_events{projection="seat-count"} 25');
  });

  it('starts a rebuild, reports its progress and completes it', async () => {
    const start = await h.request('/api/v1/ns/default/projections/seat-count/rebuild', { method: 'POST' });
    expect(start.status).toBe(202);
    expect((await start.json()).state).toBe('running');
    const done = await until(
      async () => (await h.request('/api/v1/ns/default/projections/seat-count/rebuild')).json(),
      (r) => r.state !== 'running',
    );
    expect(done).toMatchObject({
      projection: 'seat-count',
      state: 'completed',
      processed: 25,
      total: 25,
      error: null,
    });
    expect(await registry.state('seat-count')).toEqual({ booked: 25 });
    const listed = await (await h.request('/api/v1/ns/default/projections')).json();
    expect(listed.projections[0].rebuild.state).toBe('completed');
  });

  it('answers 404 for unknown projections and projections of other namespaces', async () => {
    for (const path of [
      '/api/v1/ns/default/projections/nope',
      '/api/v1/ns/default/projections/nope/rebuild',
      '/api/v1/ns/other/projections/seat-count',
    ]) {
      const res = await h.request(path);
      expect(res.status, path).toBe(404);
      expect((await res.json()).error.code).toBe('NOT_FOUND');
    }
    expect((await h.request('/api/v1/ns/default/projections/nope/rebuild', { method: 'POST' })).status).toBe(
      404,
    );
    expect(await (await h.request('/api/v1/ns/other/projections')).json()).toEqual({
      available: false,
      projections: [],
    });
  });

  it('serves a registry built on another namespace under that namespace', async () => {
    const tenant = h.store.withNamespace('tenant');
    const tenantRegistry = createProjectionRegistry({ store: tenant, projections: [seatCount] });
    const own = await startHarness({ store: h.store, projections: tenantRegistry });
    try {
      expect((await (await own.request('/api/v1/ns/tenant/projections')).json()).available).toBe(true);
      expect(await (await own.request('/api/v1/ns/default/projections')).json()).toEqual({
        available: false,
        projections: [],
      });
    } finally {
      await own.server.close();
    }
  });
});
