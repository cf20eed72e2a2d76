import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from './run-cli.js';

const fixture = fileURLToPath(new URL('./fixtures/projections.ts', import.meta.url));

describe('ordo CLI on a SQLite file', () => {
  let dir: string;
  let store: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordo-cli-'));
    store = `sqlite:${join(dir, 'data', 'ordo.db')}`;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('migrates (creating the file and its directory)', async () => {
    const r = await runCli(['migrate', '--store', store], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('schema up to date');
  });

  it('appends and reads back a stream and the global log', async () => {
    const a = await runCli(
      [
        'append',
        'order/1 ü',
        'Placed',
        '--data',
        '{"total":3}',
        '--metadata',
        '{"by":"ann"}',
        '--tag',
        't1',
        '--expected-version',
        'no_stream',
        '--store',
        store,
      ],
      dir,
    );
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ streamId: 'order/1 ü', firstVersion: 1, lastVersion: 1 });
    const events = JSON.stringify([
      { type: 'Paid', data: { cents: 300 } },
      { type: 'Shipped', data: null },
    ]);
    const b = await runCli(
      ['append', 'order/1 ü', '--events', '-', '--expected-version', '1', '--store', store],
      dir,
      { input: events },
    );
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ firstVersion: 2, lastVersion: 3 });

    const read = await runCli(['read', 'order/1 ü', '--json', '--store', store], dir);
    expect(read.code).toBe(0);
    const lines = read.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((e) => [e.version, e.type])).toEqual([
      [1, 'Placed'],
      [2, 'Paid'],
      [3, 'Shipped'],
    ]);
    expect(lines[0]).toMatchObject({ data: { total: 3 }, metadata: { by: 'ann' }, tags: ['t1'] });

    const all = await runCli(['read', '--type', 'Paid', '--store', store], dir);
    expect(all.stdout.trim().split('\n')).toHaveLength(1);
    expect(all.stdout).toContain('order/1 ü#2\tPaid\t{"cents":300}');
  });

  it('prints the error code and exits non-zero on conflicts and bad input, writing nothing', async () => {
    const conflict = await runCli(
      ['append', 'order/1 ü', 'Late', '--expected-version', '1', '--store', store],
      dir,
    );
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/^error VERSION_CONFLICT: .*expected 1, current 3/);
    for (const args of [
      ['append', 'x', 'T', '--data', '{nope'],
      ['append', 'x', '', '--data', '{}'],
      ['append', 'x', 'T', '--expected-version', 'soon'],
      ['append', 'x', '--events', '-'],
    ]) {
      const r = await runCli([...args, '--store', store], dir, { input: '{"not":"an array"}' });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/^error INVALID_INPUT: /);
    }
    const x = await runCli(['read', 'x', '--json', '--store', store], dir);
    expect(x.stdout).toBe('');
    const badStore = await runCli(['read', '--store', 'ftp://nowhere'], dir);
    expect(badStore.code).toBe(1);
    expect(badStore.stderr).toMatch(/^error INVALID_INPUT: url/);
  });

  it('runs the seat-booking demo: bookings = seats, no overbooking', async () => {
    const r = await runCli(
      ['demo', '--seats', '15', '--clients', '4', '--show', 'show-cli', '--json', '--store', store],
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({
      streamId: 'show-cli',
      seats: 15,
      bookings: 15,
      distinctSeats: 15,
      overbooked: false,
    });
    expect(Object.values(summary.perClient as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(15);
    const read = await runCli(['read', 'show-cli', '--json', '--store', store], dir);
    const seats = read.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === 'SeatBooked')
      .map((e) => e.data.seat)
      .sort((a: number, b: number) => a - b);
    expect(seats).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  });

  it('never overbooks when several demo processes book the same show at once', async () => {
    const args = (prefix: string) => [
      'demo',
      '--seats',
      '20',
      '--clients',
      '3',
      '--show',
      'show-race',
      '--client-prefix',
      prefix,
      '--pace',
      '2',
      '--json',
      '--store',
      store,
    ];
    // The show is scheduled first so both processes start booking at once.
    const scheduled = await runCli(
      ['append', 'show-race', 'ShowScheduled', '--data', '{"seats":20}', '--store', store],
      dir,
    );
    expect(scheduled.code).toBe(0);
    const results = await Promise.all(
      ['p1', 'p2', 'p3'].map((p) => runCli(args(p), dir, { timeoutMs: 40_000 })),
    );
    const summaries = results.map((r) => {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout);
    });
    let total = 0;
    for (const s of summaries) {
      expect(s).toMatchObject({ bookings: 20, distinctSeats: 20, overbooked: false });
      total += Object.values(s.perClient as Record<string, number>).reduce((a, b) => a + b, 0);
    }
    expect(total).toBe(20);
  });

  it('lists and rebuilds projections with progress', async () => {
    const ls = await runCli(
      ['projections', 'ls', '--projections', fixture, '--catch-up', '--json', '--store', store],
      dir,
    );
    expect(ls.stderr).toBe('');
    expect(ls.code).toBe(0);
    const [status] = JSON.parse(ls.stdout);
    expect(status).toMatchObject({ name: 'bookings', processed: 35, lagEvents: 0, errors: 0 });
    const rebuild = await runCli(
      ['projections', 'rebuild', 'bookings', '--projections', fixture, '--store', store],
      dir,
    );
    expect(rebuild.code).toBe(0);
    expect(JSON.parse(rebuild.stdout)).toMatchObject({ name: 'bookings', processed: 35 });
    expect(rebuild.stderr).toContain('rebuild bookings');
    const unknown = await runCli(
      ['projections', 'rebuild', 'nope', '--projections', fixture, '--store', store],
      dir,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error [A-Z_]+: /);
  });

  it('tails the log from the start and stops after --count events', async () => {
    const r = await runCli(['tail', '--from-start', '--count', '2', '--json', '--store', store], dir);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).type),
    ).toEqual(['Placed', 'Paid']);
  });

  it('serves the API on the store; the demo books through it and tail follows live', async () => {
    const serve = startCli(
      ['serve', '--port', '0', '--token', 'default:cli-secret', '--projections', fixture, '--store', store],
      dir,
    );
    let out = '';
    serve.stdout!.on('data', (d) => {
      out += d;
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not print its URL: ${out}`)), 15_000);
        serve.stdout!.on('data', () => {
          const m = /Console: (http:\/\/\S+)\//.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect((await fetch(`${url}/api/v1/ns/default/head`)).status).toBe(401);
      const auth = { authorization: 'Bearer cli-secret' };
      expect((await fetch(`${url}/api/v1/ns/other/head`, { headers: auth })).status).toBe(403);
      const projections = (await (
        await fetch(`${url}/api/v1/ns/default/projections`, { headers: auth })
      ).json()) as {
        projections: { name: string }[];
      };
      expect(projections.projections.map((p) => p.name)).toEqual(['bookings']);
      // tail follows from the head: start the demo only once tail has read it (it says so on stderr).
      const tail = runCli(
        ['tail', '--count', '1', '--type', 'ShowScheduled', '--json', '--store', store],
        dir,
        {
          onStderr: (text) => text.includes('following after position'),
        },
      );
      await tail.ready;
      // Two demo processes book the same show through the API at once: the server's store decides.
      const demos = await Promise.all(
        ['h1', 'h2'].map((prefix) =>
          runCli(
            [
              'demo',
              '--url',
              url,
              '--token',
              'cli-secret',
              '--seats',
              '8',
              '--clients',
              '3',
              '--show',
              'show-http',
            ].concat(['--client-prefix', prefix, '--pace', '2', '--json']),
            dir,
          ),
        ),
      );
      let booked = 0;
      for (const demo of demos) {
        expect(demo.stderr).toBe('');
        const summary = JSON.parse(demo.stdout);
        expect(summary).toMatchObject({ bookings: 8, distinctSeats: 8, overbooked: false });
        booked += Object.values(summary.perClient as Record<string, number>).reduce((x, y) => x + y, 0);
      }
      expect(booked).toBe(8);
      const tailed = await tail.result;
      expect(tailed.code).toBe(0);
      expect(JSON.parse(tailed.stdout)).toMatchObject({ streamId: 'show-http', type: 'ShowScheduled' });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain('ordo_appends_total{namespace="default"} 9');
    } finally {
      serve.kill('SIGTERM');
    }
    const code = await new Promise((resolve) => serve.on('close', resolve));
    expect(code).toBe(0);
  });
});

describe('ordo CLI usage', () => {
  it('runs the benchmark harness (quick, memory only, results in a temporary directory)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ordo-bench-'));
    try {
      const r = await runCli(
        ['bench', '--backend', 'memory', '--quick', '--no-report', '--no-extras', '--results', out],
        out,
        {
          timeoutMs: 50_000,
        },
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const result = JSON.parse(await readFile(join(out, 'memory.json'), 'utf8'));
      expect(result.backend).toBe('memory');
      expect(result.workloads.length).toBeGreaterThan(0);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('prints help and rejects unknown commands', async () => {
    const dir = tmpdir();
    const help = await runCli(['--help'], dir);
    expect(help.code).toBe(0);
    for (const c of ['serve', 'append', 'read', 'tail', 'projections', 'migrate', 'bench', 'demo'])
      expect(help.stdout).toContain(c);
    const bad = await runCli(['frobnicate'], dir);
    expect(bad.code).not.toBe(0);
  });
});
