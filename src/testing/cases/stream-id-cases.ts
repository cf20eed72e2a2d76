import { expect } from 'vitest';
import {
  type ConformanceContext,
  expectInvalidInput,
  newEvent,
  readEverything,
} from '../conformance-context.js';

const utf8 = new TextEncoder();

/** Ids that naive key schemes (subjects, paths, LIKE patterns, prefixes) tend to confuse. */
export const trickyStreamIds: readonly string[] = [
  'a',
  'A',
  'a.b',
  'a_b',
  'a b',
  'a/b',
  'a\\b',
  'a-b',
  'a:b',
  'a%b',
  '*',
  '>',
  'a.*',
  'a.>',
  'a.b.c',
  'a ',
  ' a',
  '.',
  '..',
  "'; drop table events; --",
  '🎉',
  '🎉🚀',
  'café', // NFC
  'cafe\u0301', // NFD: a different string, so a different stream
  'x'.repeat(512),
  'é'.repeat(256),
  '😀'.repeat(128),
  `ab${'€'.repeat(170)}`,
];

/** Stream ids are arbitrary Unicode of 1..512 UTF-8 bytes; distinct ids are distinct streams. */
export function streamIdCases(ctx: ConformanceContext): void {
  ctx.test('tricky stream ids are distinct streams with their own versions and reads', async () => {
    const store = ctx.fresh();
    for (const id of trickyStreamIds) expect(utf8.encode(id).length).toBeLessThanOrEqual(512);
    expect(new Set(trickyStreamIds).size).toBe(trickyStreamIds.length);
    // Each stream gets a different number of events, so any collision shows up in the versions.
    for (const [index, id] of trickyStreamIds.entries()) {
      const count = 1 + (index % 4);
      const events = Array.from({ length: count }, (_, i) => newEvent('Tricky', { index, i }));
      const result = await store.append(id, events, { expectedVersion: 'no_stream' });
      expect(result).toMatchObject({ streamId: id, firstVersion: 1, lastVersion: count });
    }
    for (const [index, id] of trickyStreamIds.entries()) {
      const count = 1 + (index % 4);
      expect(await store.streamVersion(id)).toBe(count);
      const events = await store.readStream(id);
      expect(events.map((e) => [e.streamId, e.version, (e.data as { index: number }).index])).toEqual(
        Array.from({ length: count }, (_, i) => [id, i + 1, index]),
      );
      expect((await store.readStream(id, { direction: 'backwards', limit: 1 }))[0]!.version).toBe(count);
    }
    const all = await readEverything(store);
    for (const [index, id] of trickyStreamIds.entries()) {
      expect(all.filter((e) => e.streamId === id)).toHaveLength(1 + (index % 4));
    }
    // Appends with an expected version keep working on every id.
    for (const [index, id] of trickyStreamIds.entries()) {
      await store.append(id, [newEvent('Again')], { expectedVersion: 1 + (index % 4) });
    }
    for (const id of trickyStreamIds) {
      await store.saveSnapshot(id, { version: 1, state: { id } });
      expect((await store.loadSnapshot(id))?.state).toEqual({ id });
    }
  });

  ctx.test('empty, over-long and non-string stream ids are rejected', async () => {
    const store = ctx.fresh();
    const bad: unknown[] = [
      '',
      'x'.repeat(513),
      `${'é'.repeat(256)}x`,
      '😀'.repeat(129),
      42,
      null,
      undefined,
      {},
      ['a'],
    ];
    for (const id of bad) {
      await expectInvalidInput(() => store.append(id as string, [newEvent('A')]));
      await expectInvalidInput(() => store.readStream(id as string));
      await expectInvalidInput(() => store.readStreamWithErrors(id as string));
      await expectInvalidInput(() => store.streamVersion(id as string));
      await expectInvalidInput(() => store.saveSnapshot(id as string, { version: 1, state: {} }));
      await expectInvalidInput(() => store.loadSnapshot(id as string));
    }
    expect(await readEverything(store)).toEqual([]);
    expect(await store.headPosition()).toBe('0');
  });
}
