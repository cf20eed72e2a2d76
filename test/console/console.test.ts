import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryStore } from '../../src/index.js';
import {
  createProjectionRegistry,
  defineProjection,
  type ProjectionRegistry,
} from '../../src/projections/index.js';
import { type Harness, startHarness, streamPath } from '../server/server-harness.js';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(executablePath);
if (!available && process.env.CI !== 'true') {
  console.warn(
    `SKIPPED web console browser test: no chromium at ${executablePath} (apt-get install -y chromium; CI=true makes this a failure)`,
  );
}
const describeBrowser = available || process.env.CI === 'true' ? describe : describe.skip;

const seatCount = defineProjection<{ booked: number }>({
  name: 'seat-count',
  version: 1,
  init: () => ({ booked: 0 }),
  handlers: { SeatBooked: (state) => ({ booked: state.booked + 1 }) },
});

describeBrowser('web console in headless Chromium', () => {
  let h: Harness;
  let registry: ProjectionRegistry;
  let browser: Browser;
  beforeAll(async () => {
    const store = createInMemoryStore();
    registry = createProjectionRegistry({ store, projections: [seatCount] });
    await registry.start();
    h = await startHarness({
      store,
      projections: registry,
      tokens: [{ token: 'console-secret', namespaces: ['default'] }],
    });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.server.close();
    await registry?.stop();
    await h?.store.close();
  });

  it('shows appended events live, pretty-prints them and rebuilds a projection', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${h.url}/`);
    // Without a token the API answers 401 and the console says so.
    await page.getByTestId('message').filter({ hasText: 'UNAUTHORIZED' }).waitFor();
    await page.getByTestId('token').fill('console-secret');
    await page.getByTestId('connect').click();
    await page.locator('[data-testid=connection]', { hasText: 'live' }).waitFor();
    expect(await page.evaluate("sessionStorage.getItem('ordo.token')")).toBe('console-secret');

    const res = await h.request(streamPath('show/1 ü'), {
      token: 'console-secret',
      json: {
        events: [{ type: 'SeatBooked', data: { seat: 7, customer: 'ann' }, metadata: { via: 'test' } }],
      },
    });
    expect(res.status).toBe(201);

    await page.locator('[data-testid=live] li', { hasText: 'SeatBooked' }).waitFor();
    const stream = page.locator('[data-testid=streams] li', { hasText: 'show/1 ü' });
    await stream.waitFor();
    await stream.click();
    const event = page.locator('[data-testid=events] li[data-type=SeatBooked]');
    await event.waitFor();
    expect(await event.locator('pre.data').textContent()).toBe(
      JSON.stringify({ seat: 7, customer: 'ann' }, null, 2),
    );
    expect(await event.locator('pre.metadata').textContent()).toContain('"via": "test"');

    // A second event on the selected stream appears in the viewer without a reload.
    await h.request(streamPath('show/1 ü'), {
      token: 'console-secret',
      json: { events: [{ type: 'SeatBooked', data: { seat: 8 } }] },
    });
    await page.locator('[data-testid=events] li[data-version="2"]').waitFor();

    // Search narrows the stream list.
    await h.request(streamPath('other'), {
      token: 'console-secret',
      json: { events: [{ type: 'Noise', data: {} }] },
    });
    await page.locator('[data-testid=streams] li', { hasText: 'other' }).waitFor();
    await page.getByTestId('stream-search').fill('show');
    await page.waitForFunction("document.querySelectorAll('[data-testid=streams] li').length === 1");

    await page.locator('[data-testid=rate-summary]', { hasText: '3 appends' }).waitFor();

    const row = page.locator('[data-testid=projections] tr[data-projection=seat-count]');
    await row.waitFor();
    await row.locator('button[data-rebuild=seat-count]').click();
    await row.locator('[data-rebuild-state=completed]').waitFor({ timeout: 15_000 });
    expect(await registry.state('seat-count')).toEqual({ booked: 2 });
    expect(errors).toEqual([]);
    await page.close();
  });
});
