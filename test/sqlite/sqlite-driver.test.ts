import { describe, expect, it } from 'vitest';
import { openSqliteStore, sqliteDriverOf } from '../../src/backends/sqlite/index.js';
import { sqlForFilteredPage, sqlForMatchingPositions } from '../../src/backends/sqlite/sqlite-queries.js';
import { InvalidInputError } from '../../src/core/errors.js';
import { matchesAny } from '../../src/core/query.js';
import type { EventQuery, RecordedEvent } from '../../src/core/types.js';

describe('sqlite driver specifics', () => {
  it('answers every condition and filter shape from an index, never by scanning the log', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    const db = sqliteDriverOf(store)!.database;
    const shapes: EventQuery[] = [
      {},
      { types: ['A'] },
      { types: ['A', 'B'] },
      { tags: ['t'] },
      { tags: ['t', 'u', 'v'] },
      { types: ['A'], tags: ['t', 'u'] },
    ];
    for (const query of shapes) {
      const { sql, params } = sqlForMatchingPositions(query, 'default', 10);
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
      for (const step of plan)
        expect(step.detail, `${JSON.stringify(query)}: ${step.detail}`).toMatch(/^SEARCH /);
      // The most selective index drives the search: first tag, else type, else position.
      const driver = query.tags
        ? 'SEARCH t0 USING PRIMARY KEY'
        : query.types
          ? 'events_namespace_type'
          : 'events_namespace_position';
      expect(plan[0]!.detail).toContain(driver);
    }
    // Filtered pages: tables are only searched through indexes (scans are of bounded subquery results).
    const filters: EventQuery[][] = [shapes, [{ types: ['A', 'B'] }], [{ tags: ['t'] }, { types: ['C'] }]];
    for (const filter of filters) {
      const { sql, params } = sqlForFilteredPage(filter, 'default', 10, 100);
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
      for (const step of plan) expect(step.detail).not.toMatch(/^SCAN (events|event_tags|t\d|e)\b/);
      expect(plan.some((step) => step.detail.startsWith('SEARCH'))).toBe(true);
    }
    await store.close();
  });

  it('pages through filtered reads in global order without missing or repeating events', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    const types = ['A', 'B', 'C'];
    for (let i = 0; i < 60; i++) {
      await store.append(`s${i % 4}`, [
        { type: types[i % 3]!, data: { i }, tags: i % 5 === 0 ? ['t', 'u'] : ['u'] },
        { type: types[(i + 1) % 3]!, data: { i }, tags: i % 7 === 0 ? ['t'] : [] },
      ]);
    }
    const everything = await store.readAll();
    const filters: EventQuery[][] = [
      [{ types: ['A', 'B'] }],
      [{ tags: ['t'] }, { types: ['C'] }],
      [{ types: ['A', 'C'], tags: ['u'] }, { tags: ['t', 'u'] }],
    ];
    for (const filter of filters) {
      const expected = everything.filter((e) => matchesAny(filter, e.type, e.tags)).map((e) => e.position);
      const pages: RecordedEvent[] = [];
      for (let after = '0'; ; ) {
        const page = await store.readAll({ after, limit: 7, filter });
        pages.push(...page);
        if (page.length < 7) break;
        after = page[page.length - 1]!.position;
      }
      expect(expected.length).toBeGreaterThan(7);
      expect(pages.map((e) => e.position)).toEqual(expected);
    }
    await store.close();
  });

  it('stores tags with any characters exactly and finds events by them', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    const tags = ['a,b', 'x y', '"quoted"', 'ünïcødé 🎟', '[]', '\\', '\u001f'];
    await store.append('s', [
      { type: 'A', data: {}, tags },
      { type: 'B', data: {} },
    ]);
    const [first, second] = await store.readStream('s');
    expect(first!.tags).toEqual(tags);
    expect(second!.tags).toEqual([]);
    for (const tag of tags) {
      expect((await store.readAll({ filter: { tags: [tag] } })).map((e) => e.type)).toEqual(['A']);
    }
    await store.close();
  });

  it('runs append hooks inside the append transaction: their writes commit or roll back with it', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    const driver = sqliteDriverOf(store)!;
    driver.database.exec('CREATE TABLE counts (stream_id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    const upsert = driver.database.prepare(
      'INSERT INTO counts VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET n = n + excluded.n',
    );
    const count = (id: string) =>
      driver.database.prepare('SELECT n FROM counts WHERE stream_id = ?').pluck().get(id);
    let fail = false;
    const remove = driver.addAppendHook(({ append, records }) => {
      upsert.run(append.streamId, records.length);
      if (fail) throw new Error('projection failed');
    });
    await store.append('s', [
      { type: 'A', data: {} },
      { type: 'A', data: {} },
    ]);
    expect(count('s')).toBe(2);
    fail = true;
    await expect(store.append('s', [{ type: 'A', data: {} }])).rejects.toThrow('projection failed');
    expect(count('s')).toBe(2);
    expect(await store.streamVersion('s')).toBe(2);
    remove();
    const removeAsync = driver.addAppendHook(async () => {});
    await expect(store.append('s', [{ type: 'A', data: {} }])).rejects.toBeInstanceOf(InvalidInputError);
    expect(await store.streamVersion('s')).toBe(2);
    removeAsync();
    await store.append('s', [{ type: 'A', data: {} }]);
    expect(await store.streamVersion('s')).toBe(3);
    await store.close();
  });

  it('assigns increasing integer positions shared by all namespaces of a file', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    const other = store.withNamespace('other');
    const a = await store.append('s', [{ type: 'A', data: {} }]);
    const b = await other.append('s', [{ type: 'A', data: {} }]);
    const c = await store.append('s', [{ type: 'A', data: {} }]);
    expect([a.position, b.position, c.position]).toEqual(['1', '2', '3']);
    expect((await store.readAll()).map((e) => e.position)).toEqual(['1', '3']);
    expect(await other.headPosition()).toBe('2');
    // Positions of other shapes still order correctly: '1.5' lies between '1' and '2'.
    expect((await store.readAll({ after: '1.5' })).map((e) => e.position)).toEqual(['3']);
    await store.close();
  });
});
