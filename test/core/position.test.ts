import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { assertPosition, comparePositions, maxPosition, START } from '../../src/core/position.js';

const sign = (n: number) => Math.sign(n);
const positionArb = fc
  .array(fc.oneof(fc.constant(0), fc.nat({ max: 20 }), fc.bigInt({ min: 0n, max: 10n ** 30n })), {
    minLength: 1,
    maxLength: 4,
  })
  .map((parts) => parts.map(String).join('.'));

describe('comparePositions', () => {
  it('orders parts numerically, not as text', () => {
    expect(sign(comparePositions('9', '10'))).toBe(-1);
    expect(sign(comparePositions('10', '9'))).toBe(1);
    expect(sign(comparePositions('100', '99'))).toBe(1);
    expect(sign(comparePositions('12345678901234567890', '12345678901234567891'))).toBe(-1);
    expect(comparePositions('42', '42')).toBe(0);
  });

  it('compares dotted positions part by part; a missing part sorts first', () => {
    expect(sign(comparePositions('1.2', '1.10'))).toBe(-1);
    expect(sign(comparePositions('2.0', '10.0'))).toBe(-1);
    expect(sign(comparePositions('1', '1.0'))).toBe(-1);
    expect(sign(comparePositions('1.0', '1'))).toBe(1);
    expect(sign(comparePositions('1.5', '2'))).toBe(-1);
    expect(sign(comparePositions('3.0.1', '3.0.0'))).toBe(1);
  });

  it('puts START before every other position', () => {
    expect(START).toBe('0');
    for (const p of ['1', '0.1', '1.0', '999999999999']) expect(sign(comparePositions(START, p))).toBe(-1);
  });

  it('sorts like numeric tuples (antisymmetric, transitive, consistent with BigInt order)', () => {
    const asTuple = (p: string) => p.split('.').map(BigInt);
    const tupleCompare = (a: bigint[], b: bigint[]) => {
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        if (a[i] === undefined) return -1;
        if (b[i] === undefined) return 1;
        if (a[i]! !== b[i]!) return a[i]! < b[i]! ? -1 : 1;
      }
      return 0;
    };
    fc.assert(
      fc.property(positionArb, positionArb, positionArb, (a, b, c) => {
        expect(sign(comparePositions(a, b))).toBe(tupleCompare(asTuple(a), asTuple(b)));
        expect(sign(comparePositions(a, b)) + sign(comparePositions(b, a))).toBe(0);
        if (comparePositions(a, b) <= 0 && comparePositions(b, c) <= 0)
          expect(comparePositions(a, c)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 500 },
    );
  });

  it('maxPosition returns the later position', () => {
    expect(maxPosition('9', '10')).toBe('10');
    expect(maxPosition('1.10', '1.2')).toBe('1.10');
    expect(maxPosition(START, '0')).toBe('0');
  });
});

describe('assertPosition', () => {
  it('accepts well-formed positions', () => {
    for (const p of ['0', '1', '10', '1.0', '0.0.0', '123.456.789', '9'.repeat(30)])
      expect(() => assertPosition(p)).not.toThrow();
  });

  it('rejects anything else with InvalidInputError naming the field', () => {
    for (const p of [
      '',
      '-1',
      '01',
      '1.',
      '.1',
      '1..2',
      'a',
      '1.a',
      ' 1',
      '1 ',
      '+1',
      '1e3',
      '1.01',
      '9'.repeat(201),
    ]) {
      expect(() => assertPosition(p, 'after')).toThrow(InvalidInputError);
    }
    for (const p of [1, null, undefined, {}, ['1']])
      expect(() => assertPosition(p)).toThrow(InvalidInputError);
    try {
      assertPosition('x', 'condition.after');
    } catch (error) {
      expect((error as InvalidInputError).field).toBe('condition.after');
      expect((error as InvalidInputError).code).toBe('INVALID_INPUT');
    }
  });
});
