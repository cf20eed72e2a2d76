import type { NatsConnection, Payload } from '@nats-io/transport-node';
import { connect } from '@nats-io/transport-node';
import { afterAll, expect, it } from 'vitest';
import { openNatsStore } from '../../src/backends/nats/index.js';
import type { NewEvent } from '../../src/core/types.js';
import { describeWithService, natsUrl } from '../support/services.js';
import { deleteStreams, natsServer, uniquePrefix } from './nats-helpers.js';

const prefix = uniquePrefix('read');
const servers = natsServer(natsUrl);

/** Records the JetStream API requests a connection makes: direct gets and consumer configurations. */
function watchRequests(nc: NatsConnection): {
  directGets: () => number;
  consumers: Record<string, unknown>[];
} {
  let directGets = 0;
  const consumers: Record<string, unknown>[] = [];
  const request = nc.request.bind(nc);
  nc.request = (subject: string, payload?: Payload, options?: Parameters<NatsConnection['request']>[2]) => {
    if (subject.includes('.DIRECT.GET.')) directGets++;
    if (subject.includes('.CONSUMER.CREATE.') && payload !== undefined) {
      const text = typeof payload === 'string' ? payload : new TextDecoder().decode(payload);
      consumers.push((JSON.parse(text) as { config: Record<string, unknown> }).config);
    }
    return request(subject, payload, options);
  };
  return { directGets: () => directGets, consumers };
}

describeWithService('nats', 'nats readStream far from the head', () => {
  afterAll(() => deleteStreams(prefix, servers));

  it('reads a long stream from early versions exactly, starting at the commit that holds the version', async () => {
    const nc = await connect({ servers });
    const watched = watchRequests(nc);
    const store = await openNatsStore({ connection: nc, stream: prefix, namespace: 'early' });
    try {
      // 150 commits of 1..5 events (450 events), other streams' commits in between and one commit
      // split into parts, so versions, commits and sequences all differ.
      const commitOf: number[] = [0]; // version -> sequence of the commit holding it
      const positionOf: string[] = [''];
      let version = 0;
      for (let c = 0; c < 150; c++) {
        const size = (c % 5) + 1;
        const events: NewEvent[] = Array.from({ length: size }, (_, i) => ({
          type: 'L',
          // Commit 61 holds two events of 700 kB: larger than one message, so it is split into parts.
          data: { v: version + i + 1, pad: c === 61 ? 'x'.repeat(700_000) : '' },
        }));
        const result = await store.append('long', events, { expectedVersion: version });
        const seq = Number(result.position.split('.')[0]);
        for (let i = 0; i < size; i++) {
          commitOf.push(seq);
          positionOf.push(`${seq}.${i}`);
        }
        version += size;
        if (c % 3 === 0) await store.append(`other-${c % 4}`, [{ type: 'O', data: { v: -c } }]);
      }
      expect(version).toBe(450);
      // Versions 182-183: after commit 60 (181) come another stream's commit and at least one part.
      expect(commitOf[182]! - commitOf[181]!).toBeGreaterThanOrEqual(3);
      expect(await store.streamVersion('long')).toBe(450);
      const versions = (from: number, to: number) =>
        Array.from({ length: Math.max(0, to - from + 1) }, (_, k) => from + k);
      const check = async (
        options: {
          fromVersion: number;
          toVersion?: number;
          limit?: number;
          direction?: 'forwards' | 'backwards';
        },
        expected: number[],
      ) => {
        const events = await store.readStream('long', options);
        expect(events.map((e) => (e.data as { v: number }).v)).toEqual(expected);
        expect(events.map((e) => e.version)).toEqual(expected);
        expect(events.map((e) => e.position)).toEqual(expected.map((v) => positionOf[v]));
      };

      for (const from of [1, 2, 3, 4, 7, 11, 100, 181, 182, 183, 184, 187, 300, 418]) {
        const before = watched.directGets();
        const consumersBefore = watched.consumers.length;
        await check({ fromVersion: from }, versions(from, 450));
        // Found by a bounded number of direct gets (a search, not one per commit)...
        expect(watched.directGets() - before).toBeLessThanOrEqual(
          2 * Math.ceil(Math.log2(commitOf[450]!)) + 8,
        );
        // ...and read from the commit holding `from` on, never from the stream's first commit.
        for (const consumer of watched.consumers.slice(consumersBefore)) {
          expect(Number(consumer.opt_start_seq ?? 1)).toBeGreaterThanOrEqual(commitOf[from]!);
        }
      }
      // Long ranges were read with consumers (so the check above looked at their start sequences).
      expect(watched.consumers.length).toBeGreaterThan(0);
      await check({ fromVersion: 50, limit: 7 }, versions(50, 56));
      await check({ fromVersion: 182, toVersion: 186 }, versions(182, 186)); // around the split commit
      await check({ fromVersion: 5, toVersion: 5 }, [5]);
      await check({ fromVersion: 400, limit: 10, direction: 'backwards' }, versions(391, 400).reverse());
      await check({ fromVersion: 20, toVersion: 12, direction: 'backwards' }, versions(12, 20).reverse());
      await check({ fromVersion: 3, limit: 100, direction: 'backwards' }, [3, 2, 1]);
      await check({ fromVersion: 451 }, []);
      expect(await store.readStream('other-0')).toHaveLength(13);
    } finally {
      await store.close();
      await nc.close();
    }
  });

  it('finds every version of a stream whose commits are clustered among many others', async () => {
    const store = await openNatsStore({ servers, stream: prefix, namespace: 'clustered' });
    try {
      // Two bursts of commits separated by 300 commits of other streams: version and sequence are
      // far from proportional, the worst case for interpolating between them.
      let version = 0;
      const burst = async (commits: number) => {
        for (let c = 0; c < commits; c++) {
          const size = ((c * 7) % 3) + 1;
          const events = Array.from({ length: size }, (_, i) => ({ type: 'B', data: version + i + 1 }));
          await store.append('burst', events, { expectedVersion: version });
          version += size;
        }
      };
      await burst(40);
      for (let round = 0; round < 10; round++) {
        await Promise.all(
          Array.from({ length: 30 }, (_, i) => store.append(`noise-${i}`, [{ type: 'N', data: round }])),
        );
      }
      await burst(40);
      const top = await store.streamVersion('burst');
      expect(top).toBe(version);
      for (let from = 1; from <= top; from++) {
        const events = await store.readStream('burst', { fromVersion: from, limit: 40 });
        const expected = Array.from({ length: Math.min(40, top - from + 1) }, (_, k) => from + k);
        expect(events.map((e) => e.data)).toEqual(expected);
      }
    } finally {
      await store.close();
    }
  });
});
