import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePosition, encodePosition } from '../../src/backends/postgres/postgres-position.js';
import { comparePositions } from '../../src/core/position.js';

describe('postgres positions', () => {
  it('decodes START and tx-only positions before every event of that transaction', () => {
    expect(decodePosition('0')).toEqual({ txId: '0', seq: '-1' });
    expect(decodePosition('42')).toEqual({ txId: '42', seq: '-1' });
    expect(decodePosition('42.7')).toEqual({ txId: '42', seq: '7' });
    expect(decodePosition('42.7.3')).toEqual({ txId: '42', seq: '7' });
  });

  it('clamps parts beyond the column ranges instead of failing', () => {
    expect(decodePosition('99999999999999999999999.1')).toEqual({ txId: '18446744073709551615', seq: '1' });
    expect(decodePosition('5.99999999999999999999')).toEqual({ txId: '5', seq: '9223372036854775807' });
  });

  it('orders encoded positions like the (tx_id, seq) pairs they come from', () => {
    const pair = fc.tuple(fc.bigInt({ min: 1n, max: 2n ** 63n }), fc.bigInt({ min: 1n, max: 2n ** 62n }));
    fc.assert(
      fc.property(pair, pair, ([t1, s1], [t2, s2]) => {
        const expected = t1 === t2 ? Math.sign(Number(s1 - s2)) : Math.sign(Number(t1 - t2));
        const a = encodePosition(t1.toString(), s1.toString());
        const b = encodePosition(t2.toString(), s2.toString());
        expect(Math.sign(comparePositions(a, b))).toBe(expected);
        expect(decodePosition(a)).toEqual({ txId: t1.toString(), seq: s1.toString() });
      }),
    );
  });
});
