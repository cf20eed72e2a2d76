import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { assertReplicasSupported, openNatsStore } from '../../src/backends/nats/index.js';
import { compareServerVersions } from '../../src/backends/nats/nats-server-version.js';
import { InvalidInputError } from '../../src/core/errors.js';
import { openStore } from '../../src/open-store.js';
import { describeWithService, natsUrl } from '../support/services.js';
import { deleteStreams, natsServer, uniquePrefix } from './nats-helpers.js';

describe('replicas version check', () => {
  it('orders server versions numerically', () => {
    expect(compareServerVersions('2.9.21', '2.9.10')).toBeGreaterThan(0);
    expect(compareServerVersions('2.10.0', '2.9.21')).toBeGreaterThan(0);
    expect(compareServerVersions('2.9.20', '2.9.21')).toBeLessThan(0);
    expect(compareServerVersions('v2.9.21-beta.1', '2.9.21')).toBe(0);
  });

  it('refuses replicas > 1 on servers older than 2.9.21 and accepts newer ones', () => {
    for (const old of ['2.9.10', '2.9.20', '2.8.4', undefined]) {
      expect(() => assertReplicasSupported(3, old)).toThrow(InvalidInputError);
    }
    for (const recent of ['2.9.21', '2.10.22', '2.11.0', '3.0.0']) {
      expect(() => assertReplicasSupported(3, recent)).not.toThrow();
    }
    // A single replica is fine everywhere.
    expect(() => assertReplicasSupported(1, '2.9.10')).not.toThrow();
  });
});

describeWithService('nats', 'replicas against the real server', () => {
  const prefix = uniquePrefix('repl');
  afterAll(() => deleteStreams(prefix, natsServer(natsUrl)));

  it('refuses replicas=3 on this 2.9.10 server with InvalidInputError and creates no stream', async () => {
    const nc = await connect({ servers: natsServer(natsUrl) });
    try {
      const version = nc.info!.version;
      const error = await openNatsStore({ servers: natsServer(natsUrl), stream: prefix, replicas: 3 }).then(
        (store) => store.close().then(() => undefined),
        (e: unknown) => e,
      );
      if (compareServerVersions(version, '2.9.21') < 0) {
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).field).toBe('replicas');
        expect((error as Error).message).toContain(version);
        // The URL form passes replicas through the same check.
        await expect(openStore(`${natsUrl}?stream=${prefix}&replicas=3`)).rejects.toBeInstanceOf(
          InvalidInputError,
        );
        const jsm = await jetstreamManager(nc);
        const names: string[] = [];
        for await (const name of jsm.streams.names()) names.push(name);
        expect(names.filter((n) => n.startsWith(`${prefix}_`))).toEqual([]);
      } else {
        // A new enough single server passes replicas through; the server itself decides.
        expect(error === undefined || !(error instanceof InvalidInputError)).toBe(true);
      }
    } finally {
      await nc.close();
    }
  });

  it('rejects out-of-range replicas and bad stream prefixes before connecting', async () => {
    await expect(openNatsStore({ servers: natsServer(natsUrl), replicas: 0 })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(openNatsStore({ servers: natsServer(natsUrl), replicas: 1.5 })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    for (const stream of ['a.b', 'a_b', 'a b', '*', '', 'x'.repeat(33)]) {
      await expect(openNatsStore({ servers: natsServer(natsUrl), stream })).rejects.toBeInstanceOf(
        InvalidInputError,
      );
    }
  });
});
