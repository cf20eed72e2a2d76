import type { Position } from '../../core/types.js';

const maxXid8 = 18446744073709551615n;
const maxInt8 = 9223372036854775807n;

/** A position as the `(tx_id, seq)` pair PostgreSQL compares; `seq` is -1 when the position has no second part. */
export interface TxPosition {
  /** Decimal text of an xid8. */
  txId: string;
  /** Decimal text of a bigint. */
  seq: string;
}

/**
 * Decodes a position (`"<tx_id>.<seq>"`, or `'0'` for START) into the pair that sorts the same way:
 * a missing second part is before every seq of that transaction, and parts too large for the
 * column types are clamped (nothing stored can be after them). Further parts are ignored:
 * no stored event sorts between `a.b` and `a.b.c`.
 */
export function decodePosition(position: Position): TxPosition {
  const [tx = '0', seq] = position.split('.');
  const txValue = BigInt(tx);
  return {
    txId: (txValue > maxXid8 ? maxXid8 : txValue).toString(),
    seq: seq === undefined ? '-1' : (BigInt(seq) > maxInt8 ? maxInt8 : BigInt(seq)).toString(),
  };
}

/** The position of the event stored by transaction `txId` with sequence number `seq`. */
export function encodePosition(txId: string, seq: string): Position {
  return `${txId}.${seq}`;
}
