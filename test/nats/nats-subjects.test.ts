import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openNatsStore } from '../../src/backends/nats/index.js';
import {
  commitSubject,
  encodeStreamIdTokens,
  escapeStreamId,
  MAX_SUBJECT_LENGTH,
  MAX_TOKEN_LENGTH,
  streamIdOfSubject,
  unescapeStreamId,
} from '../../src/backends/nats/nats-subjects.js';
import { describeWithService, natsUrl } from '../support/services.js';
import { deleteStreams, natsServer, uniquePrefix } from './nats-helpers.js';

const tricky = [
  'a.b',
  'a_b',
  'a b',
  'a/b',
  '*',
  '>',
  'a.*',
  'a.>',
  'a',
  'A',
  '_2E',
  'a_2Eb',
  '😀',
  'é',
  'e\u0301',
  '-',
  '.',
  '..',
];
const longest = '😀'.repeat(128); // 512 bytes, every byte escaped

describe('stream id subject encoding', () => {
  it('maps the tricky ids to pairwise distinct subjects made of safe tokens only', () => {
    const subjects = tricky.map((id) => commitSubject('ordo_default', id));
    expect(new Set(subjects).size).toBe(tricky.length);
    for (const subject of subjects) {
      const tokens = subject.split('.');
      expect(tokens.every((t) => /^[A-Za-z0-9_-]+$/.test(t))).toBe(true);
    }
    expect(escapeStreamId('a.b')).toBe('a_2Eb');
    expect(escapeStreamId('a_b')).toBe('a_5Fb');
    expect(escapeStreamId('*')).toBe('_2A');
    expect(escapeStreamId('>')).toBe('_3E');
  });

  it('is injective and reversible on arbitrary Unicode ids (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
        (a, b) => {
          fc.pre(a.isWellFormed() && b.isWellFormed());
          expect(unescapeStreamId(escapeStreamId(a))).toBe(a);
          expect(streamIdOfSubject('s_n', commitSubject('s_n', a))).toBe(a);
          if (a !== b) expect(commitSubject('s_n', a)).not.toBe(commitSubject('s_n', b));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('cuts a 512-byte all-escaped id into tokens of at most 255 characters within the subject limit', () => {
    const tokens = encodeStreamIdTokens(longest).split('.');
    expect(tokens.join('')).toHaveLength(1536);
    expect(tokens.every((t) => t.length > 0 && t.length <= MAX_TOKEN_LENGTH)).toBe(true);
    const subject = commitSubject(`${'p'.repeat(32)}_${'n'.repeat(64)}`, longest);
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(streamIdOfSubject(`${'p'.repeat(32)}_${'n'.repeat(64)}`, subject)).toBe(longest);
  });
});

describeWithService('nats', 'stream id encoding on a real server', () => {
  const prefix = uniquePrefix('subj');
  afterAll(() => deleteStreams(prefix, natsServer(natsUrl)));

  it('keeps tricky ids (and a 512-byte escaped id) apart as separate streams', async () => {
    const store = await openNatsStore({ servers: natsServer(natsUrl), stream: prefix });
    try {
      const ids = [...tricky, longest];
      // Each id gets as many events as its index + 1, so any sharing of subjects shows in the versions.
      for (const [i, id] of ids.entries()) {
        for (let n = 0; n <= i; n++)
          await store.append(id, [{ type: 'E', data: { id, n } }], { expectedVersion: n });
      }
      for (const [i, id] of ids.entries()) {
        expect(await store.streamVersion(id)).toBe(i + 1);
        const events = await store.readStream(id);
        expect(events.map((e) => e.version)).toEqual(Array.from({ length: i + 1 }, (_, n) => n + 1));
        expect(events.every((e) => e.streamId === id && (e.data as { id: string }).id === id)).toBe(true);
      }
      expect(await store.streamVersion('a.c')).toBe(0);
      expect(await store.streamVersion('ab')).toBe(0);
    } finally {
      await store.close();
    }
  });
});
