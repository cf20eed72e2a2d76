import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { parseJson, serializeJson } from '../../src/core/json.js';

function fieldOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).field;
  }
  throw new Error('expected InvalidInputError');
}

describe('serializeJson', () => {
  it('serializes plain JSON exactly as JSON.stringify does', () => {
    const value = {
      a: [1, 'two', null, true, { b: -0.5 }],
      'key.with dots': {},
      nested: { list: [] },
      unicode: 'é🎉\u2028',
    };
    expect(serializeJson(value, 'data')).toBe(JSON.stringify(value));
    expect(serializeJson(null, 'data')).toBe('null');
    expect(serializeJson('text', 'data')).toBe('"text"');
    expect(serializeJson(0, 'data')).toBe('0');
    expect(serializeJson(Object.create(null), 'data')).toBe('{}');
  });

  it('round-trips any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = serializeJson(value, 'data');
        expect(parseJson(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });

  it('treats undefined object properties as absent, like JSON', () => {
    expect(serializeJson({ a: 1, b: undefined }, 'data')).toBe('{"a":1}');
  });

  it('rejects values that are not JSON, naming the path', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    class Point {
      x = 1;
    }
    const cases: Array<[unknown, string]> = [
      [{ n: 1n }, 'data.n'],
      [{ a: { b: Number.NaN } }, 'data.a.b'],
      [[Number.POSITIVE_INFINITY], 'data[0]'],
      [{ f: () => 1 }, 'data.f'],
      [{ s: Symbol('s') }, 'data.s'],
      [{ [Symbol('k')]: 1 }, 'data'],
      [cycle, 'data.self'],
      [{ d: new Date(0) }, 'data.d'],
      [{ m: new Map() }, 'data.m'],
      [new Set(), 'data'],
      [{ p: new Point() }, 'data.p'],
      [[1, undefined], 'data[1]'],
      [undefined, 'data'],
      [{ s: 'lone \ud800' }, 'data.s'],
      [{ s: 'nul \u0000' }, 'data.s'],
    ];
    for (const [value, field] of cases) expect(fieldOf(() => serializeJson(value, 'data'))).toBe(field);
    expect(fieldOf(() => serializeJson({ 'bad\u0000key': 1 }, 'meta'))).toContain('meta');
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(serializeJson({ a: shared, b: shared, list: [shared, shared] }, 'data')).toBe(
      '{"a":{"x":1},"b":{"x":1},"list":[{"x":1},{"x":1}]}',
    );
  });
});

describe('parseJson', () => {
  it('throws on undecodable text so callers can report the record', () => {
    expect(() => parseJson('{not json')).toThrow(SyntaxError);
  });
});
