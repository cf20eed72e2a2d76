import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/core/types.js';
import { openStore } from '../../src/open-store.js';
import { describeWithService, natsUrl, postgresUrl } from '../support/services.js';
import {
  expectClientError,
  type InProcessServer,
  inProcessServer,
  readSseUntil,
} from './security-harness.js';

/**
 * Injection through the HTTP API: SQL injection on SQLite and PostgreSQL, subject injection on
 * NATS. Every payload is used as a stream id, an event type, a tag, a metadata key, data, and in
 * filters and conditions. It must be stored and read back verbatim, match only itself (no LIKE
 * wildcards, no subject wildcards: no cross-stream reads), and leave the backend's tables intact.
 */

const payloads = [
  "'; DROP TABLE events; --",
  "' OR '1'='1",
  '" OR ""="',
  "x'); DELETE FROM events WHERE ('1'='1",
  "Robert'); DROP TABLE event_tags;--",
  '1; UPDATE streams SET version = 0; --',
  "' UNION SELECT name, sql FROM sqlite_master --",
  "' UNION SELECT table_name FROM information_schema.tables --",
  '$$; DROP SCHEMA public CASCADE; $$',
  '1; SELECT pg_sleep(30); --',
  '\\',
  "\\'",
  '%',
  '_',
  '%%',
  'a%',
  '$1',
  '?',
  ':name',
  '/* */',
  '*',
  '>',
  'a.b',
  'a.*',
  'a.>',
  '$JS.API.>',
  '_INBOX.>',
  'e.>',
  'a_2Eb', // the NATS escape of `a.b`: must not collide with it
  ' ',
  '\t\n',
  '\u202e',
  '🦄',
];
/** Types and tags must be single-line text without NUL; stream ids too. All payloads qualify. */

interface Target {
  name: string;
  service?: 'postgres' | 'nats';
  open(): Promise<EventStore>;
  /** Names of the backend's tables / streams, to show the attack changed no structure. */
  structure(): Promise<string[]>;
  cleanup(): Promise<void>;
}

const suffix = randomBytes(4).toString('hex');
const sqliteDir = mkdtempSync(join(tmpdir(), 'ordo-security-'));
const pgSchema = `ordo_sec_${suffix}`;
const natsPrefix = `sec-${suffix}`;

const targets: Target[] = [
  {
    name: 'SQLite',
    open: () => openStore(`sqlite:${join(sqliteDir, 'store.db')}`),
    async structure() {
      const db = new Database(join(sqliteDir, 'store.db'), { readonly: true, fileMustExist: true });
      try {
        return (
          db.prepare("SELECT type || ' ' || name AS n FROM sqlite_master ORDER BY n").all() as { n: string }[]
        ).map((r) => r.n);
      } finally {
        db.close();
      }
    },
    async cleanup() {
      rmSync(sqliteDir, { recursive: true, force: true });
    },
  },
  {
    name: 'PostgreSQL',
    service: 'postgres',
    open: () => openStore(`${postgresUrl}?schema=${pgSchema}`),
    async structure() {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>(
          `SELECT table_schema || '.' || table_name AS n FROM information_schema.tables
           WHERE table_schema IN ($1, 'public') ORDER BY n`,
          [pgSchema],
        );
        return rows.map((r) => r.n);
      } finally {
        await client.end();
      }
    },
    async cleanup() {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  },
  {
    name: 'NATS',
    service: 'nats',
    open: () => openStore(`${natsUrl}?stream=${natsPrefix}`),
    async structure() {
      const nc = await connect({ servers: new URL(natsUrl).host });
      try {
        const names: string[] = [];
        for await (const name of (await jetstreamManager(nc)).streams.names()) {
          if (name.includes(natsPrefix)) names.push(name);
        }
        return names.sort();
      } finally {
        await nc.close();
      }
    },
    async cleanup() {
      const nc = await connect({ servers: new URL(natsUrl).host });
      try {
        const jsm = await jetstreamManager(nc);
        const names: string[] = [];
        for await (const name of jsm.streams.names()) if (name.includes(natsPrefix)) names.push(name);
        for (const name of names) await jsm.streams.delete(name);
      } finally {
        await nc.close();
      }
    },
  },
];

const NS = 'inject';
const TOKEN = 'inject-token';
const NEIGHBOUR = 'neighbour';

for (const target of targets) {
  const suite = () => {
    let s: InProcessServer;
    let structureBefore: string[];
    beforeAll(async () => {
      const store = await target.open();
      s = inProcessServer({
        store,
        tokens: [
          { token: TOKEN, namespaces: [NS] },
          { token: 'neighbour-token', namespaces: [NEIGHBOUR] },
        ],
      });
      // One event in an unrelated stream, so that a wildcard match would have something to return.
      const seeded = await s.send(`/api/v1/ns/${NS}/streams/bystander`, {
        token: TOKEN,
        body: JSON.stringify({ events: [{ type: 'Bystander', data: { n: 0 }, tags: ['bystander'] }] }),
      });
      expect(seeded.status).toBe(201);
      structureBefore = await target.structure();
      expect(structureBefore.length).toBeGreaterThan(0);
    });
    afterAll(async () => {
      await s?.server.close();
      await s?.store.close();
      await target.cleanup();
    });

    const q = encodeURIComponent;
    const api = (path: string) => `/api/v1/ns/${NS}${path}`;

    it('stores every payload verbatim as stream id, type, tag, metadata key and data', async () => {
      for (const p of payloads) {
        const res = await s.send(api(`/stream?id=${q(p)}`), {
          token: TOKEN,
          body: JSON.stringify({
            events: [
              { type: p, data: { payload: p, [p]: p }, metadata: { [p]: p }, tags: [p], id: `id-${p}` },
            ],
            expectedVersion: 'no_stream',
          }),
        });
        expect(res.status, p).toBe(201);
        expect((await res.json()).streamId).toBe(p);
      }
      for (const p of payloads) {
        const page = await (await s.send(api(`/stream?id=${q(p)}`), { token: TOKEN })).json();
        expect(page.events, p).toHaveLength(1);
        expect(page.events[0]).toMatchObject({
          streamId: p,
          version: 1,
          type: p,
          data: { payload: p, [p]: p },
          metadata: { [p]: p },
          tags: [p],
          id: `id-${p}`,
        });
        const version = await (await s.send(api(`/stream/version?id=${q(p)}`), { token: TOKEN })).json();
        expect(version.version, p).toBe(1);
      }
    });

    it('filters by type and tag match only the exact payload (no LIKE or subject wildcards)', async () => {
      for (const p of payloads) {
        for (const param of ['type', 'tag']) {
          const page = await (
            await s.send(api(`/events?${param}=${q(p)}&limit=1000`), { token: TOKEN })
          ).json();
          expect(
            page.events.map((e: { streamId: string }) => e.streamId),
            `${param}=${p}`,
          ).toEqual([p]);
        }
      }
      const all = await (await s.send(api('/events?limit=1000'), { token: TOKEN })).json();
      expect(all.events).toHaveLength(payloads.length + 1);
    });

    it('conditions match only the exact payload: an existing one conflicts, a wildcard-looking one does not', async () => {
      for (const p of payloads) {
        const conflict = await s.send(api('/streams/cond'), {
          token: TOKEN,
          body: JSON.stringify({
            events: [{ type: 'Cond', data: {} }],
            condition: { failIfEventsMatch: { types: [p] } },
          }),
        });
        expect(await expectClientError(conflict, p)).toBe('APPEND_CONDITION_FAILED');
      }
      for (const p of ['%', '_', '*', '>', 'a.>']) {
        const res = await s.send(api('/streams/cond'), {
          token: TOKEN,
          body: JSON.stringify({
            events: [{ type: 'Cond', data: {} }],
            condition: { failIfEventsMatch: [{ types: [`${p}-none`] }, { tags: [`never${p}`] }] },
          }),
        });
        expect(res.status, p).toBe(201);
      }
    });

    it('SSE with a wildcard-looking filter delivers only the exact match', async () => {
      for (const p of ['>', '*', '%']) {
        const res = await s.send(api(`/subscribe?type=${q(p)}`), { token: TOKEN });
        expect(res.status).toBe(200);
        const text = await readSseUntil(res, (t) => t.includes('"streamId":'));
        const ids = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!).streamId);
        expect(ids, p).toEqual([p]);
      }
    });

    it('the stream listing and search treat payloads as text', async () => {
      const listed = await (await s.send(api('/streams?limit=1000'), { token: TOKEN })).json();
      expect(listed.streams.map((x: { streamId: string }) => x.streamId).sort()).toEqual(
        [...payloads, 'bystander', 'cond'].sort(),
      );
      const search = await (
        await s.send(api(`/streams?search=${q("' OR '1'='1")}`), { token: TOKEN })
      ).json();
      expect(search.streams.map((x: { streamId: string }) => x.streamId)).toEqual(["' OR '1'='1"]);
    });

    it('leaves the backend structure intact and the bystander stream untouched', async () => {
      expect(await target.structure()).toEqual(structureBefore);
      const page = await (await s.send(api('/streams/bystander'), { token: TOKEN })).json();
      expect(page.events.map((e: { data: unknown }) => e.data)).toEqual([{ n: 0 }]);
      expect(s.logged).toEqual([]);
    });

    it('namespaces share nothing on this backend: stream ids, event ids, versions, conditions', async () => {
      const twin = (token: string, ns: string, who: string, extra: object = {}) =>
        s.send(`/api/v1/ns/${ns}/streams/twin`, {
          token,
          body: JSON.stringify({
            events: [{ type: `Twin-${who}`, id: 'same-event-id', data: { who } }],
            expectedVersion: 'no_stream',
            ...extra,
          }),
        });
      const inNeighbour = await twin('neighbour-token', NEIGHBOUR, 'neighbour');
      expect(inNeighbour.status).toBe(201);
      // Same stream id, same event id, `no_stream`, and a condition on a type only the neighbour has.
      const mine = await twin(TOKEN, NS, 'mine', {
        condition: { failIfEventsMatch: { types: ['Twin-neighbour'] } },
      });
      expect(mine.status).toBe(201);
      const mineResult = await mine.json();
      // An idempotent retry answers this namespace's own result.
      const retry = await twin(TOKEN, NS, 'mine');
      expect(retry.status).toBe(201);
      expect(await retry.json()).toEqual(mineResult);
      const page = await (await s.send(api('/streams/twin'), { token: TOKEN })).json();
      expect(page.events.map((e: { data: unknown }) => e.data)).toEqual([{ who: 'mine' }]);
      const byType = await (await s.send(api('/events?type=Twin-neighbour'), { token: TOKEN })).json();
      expect(byType.events).toEqual([]);
      const theirs = await (
        await s.send(`/api/v1/ns/${NEIGHBOUR}/streams/twin`, { token: 'neighbour-token' })
      ).json();
      expect(theirs.events.map((e: { data: unknown }) => e.data)).toEqual([{ who: 'neighbour' }]);
    });
  };
  if (target.service)
    describeWithService(target.service, `injection through the API on ${target.name}`, suite);
  else describe(`injection through the API on ${target.name}`, suite);
}
