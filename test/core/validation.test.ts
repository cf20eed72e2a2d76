import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { limits } from '../../src/core/limits.js';
import { assertNamespace, assertStreamId, prepareAppend } from '../../src/core/validation.js';

function fieldOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).field;
  }
  throw new Error('expected InvalidInputError');
}

describe('assertStreamId', () => {
  it('counts UTF-8 bytes: 512 are accepted, 513 rejected', () => {
    for (const id of ['x'.repeat(512), 'é'.repeat(256), '😀'.repeat(128), `ab${'€'.repeat(170)}`]) {
      expect(() => assertStreamId(id)).not.toThrow();
    }
    for (const id of ['x'.repeat(513), `${'é'.repeat(256)}x`, '😀'.repeat(129), `abc${'€'.repeat(170)}`]) {
      expect(fieldOf(() => assertStreamId(id))).toBe('streamId');
    }
  });

  it('rejects empty, non-string, lone-surrogate and NUL ids', () => {
    for (const id of ['', 42, null, undefined, 'a\ud800', 'a\u0000b'])
      expect(fieldOf(() => assertStreamId(id))).toBe('streamId');
  });
});

describe('assertNamespace', () => {
  it('accepts [A-Za-z0-9_-]{1,64} only', () => {
    for (const ok of ['a', 'A-b_9', 'x'.repeat(64)]) expect(() => assertNamespace(ok)).not.toThrow();
    for (const bad of ['', 'a.b', 'a b', 'é', 'x'.repeat(65), 1])
      expect(fieldOf(() => assertNamespace(bad))).toBe('namespace');
  });
});

describe('prepareAppend', () => {
  it('defaults an absent expected version to any, but rejects null', () => {
    expect(prepareAppend('s', [{ type: 'T', data: {} }], undefined).expectedVersion).toBe('any');
    expect(prepareAppend('s', [{ type: 'T', data: {} }], {}).expectedVersion).toBe('any');
    expect(
      fieldOf(() => prepareAppend('s', [{ type: 'T', data: {} }], { expectedVersion: null as never })),
    ).toBe('expectedVersion');
  });

  it('serializes events, fills ids and removes duplicate tags', () => {
    const prepared = prepareAppend(
      's',
      [
        { type: 'A', data: { n: 1 }, id: 'given', tags: ['x', 'x', 'y'] },
        { type: 'B', data: [1], metadata: { m: true } },
        { type: 'C', data: null },
      ],
      { expectedVersion: 3 },
    );
    expect(prepared.expectedVersion).toBe(3);
    expect(prepared.events.map((e) => [e.type, e.data, e.metadata, e.idGiven])).toEqual([
      ['A', '{"n":1}', '{}', true],
      ['B', '[1]', '{"m":true}', false],
      ['C', 'null', '{}', false],
    ]);
    expect(prepared.events[0]!.id).toBe('given');
    expect(prepared.events[0]!.tags).toEqual(['x', 'y']);
    const generated = prepared.events.slice(1).map((e) => e.id);
    expect(new Set(generated).size).toBe(2);
    for (const id of generated) expect(id.length).toBeGreaterThan(0);
  });

  it('names the offending field', () => {
    expect(
      fieldOf(() =>
        prepareAppend(
          's',
          [
            { type: 'T', data: {} },
            { type: '', data: {} },
          ],
          {},
        ),
      ),
    ).toBe('events[1].type');
    expect(fieldOf(() => prepareAppend('s', [{ type: 'T', data: { a: [1n] } as never }], {}))).toBe(
      'events[0].data.a[0]',
    );
    expect(fieldOf(() => prepareAppend('s', [{ type: 'T', data: {}, tags: [''] }], {}))).toBe(
      'events[0].tags[0]',
    );
    expect(
      fieldOf(() =>
        prepareAppend(
          's',
          [
            { type: 'T', data: {}, id: 'x' },
            { type: 'T', data: {}, id: 'x' },
          ],
          {},
        ),
      ),
    ).toBe('events[1].id');
    expect(
      fieldOf(() =>
        prepareAppend('s', [{ type: 'T', data: {} }], { condition: { failIfEventsMatch: {}, after: 'x' } }),
      ),
    ).toBe('condition.after');
  });

  it('enforces the size limits before anything is written', () => {
    const big = 'x'.repeat(limits.maxEventBytes);
    expect(fieldOf(() => prepareAppend('s', [{ type: 'T', data: big }], {}))).toBe('events[0]');
    const many = Array.from({ length: limits.maxEventsPerAppend + 1 }, () => ({ type: 'T', data: {} }));
    expect(fieldOf(() => prepareAppend('s', many, {}))).toBe('events');
    // Five events just under the per-event limit exceed the per-append limit.
    const nearly = 'x'.repeat(limits.maxEventBytes - 100);
    const heavy = Array.from({ length: 5 }, () => ({ type: 'T', data: nearly }));
    expect(fieldOf(() => prepareAppend('s', heavy, {}))).toBe('events');
  });
});
