import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommit, encodeCommit } from '../../src/backends/nats/nats-commit.js';
import type { PreparedEvent } from '../../src/core/driver.js';

function prepared(data: unknown, metadata: Record<string, unknown>, i: number): PreparedEvent {
  return {
    id: `id-${i}`,
    idGiven: true,
    type: `T${i}`,
    data: JSON.stringify(data),
    metadata: JSON.stringify(metadata),
    tags: [`t${i}`],
  };
}

describe('commit wire format', () => {
  it('round-trips events with multi-byte text and gives positions <seq>.<index> and versions', () => {
    const events = [
      prepared({ text: 'é😀\n"quoted"', n: 1 }, { who: 'ü' }, 0),
      prepared('x'.repeat(1000), {}, 1),
      prepared(null, { '😀': ['\u2028'] }, 2),
    ];
    const records = decodeCommit(encodeCommit('stream 😀', 1234, events), { seq: 42, lastVersion: 7 });
    expect(
      records.map((r) => [r.position, r.version, r.id, r.type, r.tags, r.streamId, r.timestamp]),
    ).toEqual([
      ['42.0', 5, 'id-0', 'T0', ['t0'], 'stream 😀', 1234],
      ['42.1', 6, 'id-1', 'T1', ['t1'], 'stream 😀', 1234],
      ['42.2', 7, 'id-2', 'T2', ['t2'], 'stream 😀', 1234],
    ]);
    expect(records.map((r) => [r.data, r.metadata])).toEqual(events.map((e) => [e.data, e.metadata]));
  });

  it('round-trips arbitrary JSON values (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue())), {
          minLength: 1,
          maxLength: 5,
        }),
        (items) => {
          const events = items.map(([data, metadata], i) => prepared(data, metadata, i));
          const records = decodeCommit(encodeCommit('s', 1, events), { seq: 1, lastVersion: items.length });
          expect(records.map((r) => [r.data, r.metadata])).toEqual(events.map((e) => [e.data, e.metadata]));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses payloads it did not write instead of guessing', () => {
    const good = encodeCommit('s', 1, [prepared({ a: 1 }, {}, 0)]);
    const location = { seq: 1, lastVersion: 1 };
    expect(() => decodeCommit(new TextEncoder().encode('no header line'), location)).toThrow(TypeError);
    expect(() => decodeCommit(good.subarray(0, good.length - 2), location)).toThrow(TypeError);
    expect(() => decodeCommit(Buffer.concat([good, Buffer.from('extra')]), location)).toThrow(TypeError);
    expect(() => decodeCommit(new TextEncoder().encode('{"s":1}\n'), location)).toThrow(TypeError);
  });
});
