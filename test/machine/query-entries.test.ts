import { describe, expect, it } from 'vitest';
import { InvalidInputError, queryEntries, type StateIndexEntry } from '../../src/index.js';

type S = { type: 'A'; n?: number | null; s?: string; b?: boolean };

const entry = (id: string, state: S): StateIndexEntry<S> => ({
  id,
  streamId: `x-${id}`,
  state,
  version: 1,
  position: '1',
  updatedAt: new Date(0),
});
const entries = [
  entry('e1', { type: 'A', n: 3, s: 'b' }),
  entry('e2', { type: 'A', n: null, s: 'a' }),
  entry('e3', { type: 'A', s: 'c', b: true }),
  entry('e4', { type: 'A', n: 1, b: false }),
];
const ids = (query: Parameters<typeof queryEntries<S>>[1]) =>
  queryEntries(entries, query).items.map((e) => e.id);

describe('state index queries', () => {
  it('treats a missing field as null for equality, and never as ordered', () => {
    expect(ids({ where: { n: null } })).toEqual(['e2', 'e3']);
    expect(ids({ where: { n: { ne: null } } })).toEqual(['e1', 'e4']);
    expect(ids({ where: { n: { lt: 100 } } })).toEqual(['e1', 'e4']);
    expect(ids({ where: { n: { in: [1, null] } } })).toEqual(['e2', 'e3', 'e4']);
    expect(ids({ where: { b: false } })).toEqual(['e4']);
  });

  it('sorts missing and null values first ascending, last descending, ties by id', () => {
    expect(ids({ orderBy: 'n' })).toEqual(['e2', 'e3', 'e4', 'e1']);
    expect(ids({ orderBy: { field: 'n', direction: 'desc' } })).toEqual(['e1', 'e4', 'e3', 'e2']);
    expect(ids({ orderBy: 's' })).toEqual(['e4', 'e2', 'e1', 'e3']);
  });

  it('pages through null sort values with the cursor without skipping or repeating', () => {
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = queryEntries(entries, { orderBy: 'n', limit: 1, ...(after ? { after } : {}) });
      seen.push(...page.items.map((e) => e.id));
      after = page.next ?? undefined;
    } while (after);
    expect(seen).toEqual(['e2', 'e3', 'e4', 'e1']);
  });

  it('returns copies, so callers cannot corrupt the index', () => {
    const [first] = queryEntries(entries, {}).items;
    first!.version = 99;
    expect(entries[0]!.version).toBe(1);
  });

  it('rejects a cursor that was tampered with', () => {
    const page = queryEntries(entries, { orderBy: 'n', limit: 1 });
    const forged = Buffer.from(JSON.stringify(['n', 'asc', { x: 1 }, 'e1'])).toString('base64url');
    expect(() => queryEntries(entries, { orderBy: 'n', after: forged })).toThrow(InvalidInputError);
    expect(() => queryEntries(entries, { orderBy: 'n', after: `${page.next}!!` })).toThrow(InvalidInputError);
    expect(() => queryEntries(entries, { state: 5 as never })).toThrow(InvalidInputError);
  });
});

describe('Date operands', () => {
  type T = { type: 'T'; at: string; n: number };
  const rows = ['2026-01-01T10:00:00.000Z', '2026-01-01T11:00:00.000Z', '2026-01-01T12:00:00.000Z'].map(
    (at, i) => ({
      id: `d${i}`,
      streamId: `d${i}`,
      state: { type: 'T' as const, at, n: i },
      version: 1,
      position: '1',
      updatedAt: new Date(0),
    }),
  );

  it('compares Dates with ISO string fields', () => {
    const now = new Date('2026-01-01T11:00:00.000Z');
    expect(queryEntries<T>(rows, { where: { at: { lt: now } } }).items.map((e) => e.id)).toEqual(['d0']);
    expect(queryEntries<T>(rows, { where: { at: { lte: now } } }).items.map((e) => e.id)).toEqual([
      'd0',
      'd1',
    ]);
    expect(queryEntries<T>(rows, { where: { at: now } }).items.map((e) => e.id)).toEqual(['d1']);
    expect(queryEntries<T>(rows, { where: { at: { in: [now] } } }).items.map((e) => e.id)).toEqual(['d1']);
  });

  it('rejects an invalid Date', () => {
    expect(() => queryEntries<T>(rows, { where: { at: { lt: new Date('nope') } } })).toThrow(
      InvalidInputError,
    );
  });
});
