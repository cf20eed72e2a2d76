import { connect, headers } from '@nats-io/transport-node';
import { afterAll, expect, it } from 'vitest';
import {
  COUNT_HEADER,
  commitSubject,
  NatsDriver,
  openNatsStore,
  PREVIOUS_HEADER,
  VERSION_HEADER,
} from '../../src/backends/nats/index.js';
import { driverOf } from '../../src/core/driver-event-store.js';
import {
  AppendConditionError,
  InvalidInputError,
  isVersionConflict,
  MalformedRecordError,
  StoreClosedError,
} from '../../src/core/errors.js';
import { limits } from '../../src/core/limits.js';
import { comparePositions } from '../../src/core/position.js';
import { describeWithService, natsUrl } from '../support/services.js';
import { deleteStreams, natsServer, uniquePrefix } from './nats-helpers.js';

const prefix = uniquePrefix('store');
const servers = natsServer(natsUrl);

describeWithService('nats', 'nats event store specifics', () => {
  afterAll(() => deleteStreams(prefix, servers));

  it('stores a commit larger than one NATS message atomically, and a refused one leaves no trace', async () => {
    const store = await openNatsStore({ servers, stream: prefix, namespace: 'large' });
    try {
      const big = 'x'.repeat(limits.maxEventBytes - 64);
      const events = [1, 2, 3].map((n) => ({ type: 'Big', data: { n, big } }));
      const result = await store.append('big', events, { expectedVersion: 'no_stream' });
      expect(result).toMatchObject({ firstVersion: 1, lastVersion: 3 });
      const refused = await store.append('big', events, { expectedVersion: 1 }).catch((e: unknown) => e);
      expect(isVersionConflict(refused) && refused.currentVersion === 3).toBe(true);
      const read = await store.readStream('big');
      expect(read.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3]);
      expect((read[2]!.data as { big: string }).big).toBe(big);
      const all = await store.readAll();
      expect(all.map((e) => e.position)).toEqual(read.map((e) => e.position));
      expect(await store.headPosition()).toBe(result.position);
      // The refused commit's parts are removed again: only the stored commit's messages remain.
      const driver = driverOf(store) as NatsDriver;
      const messages = async () => (await driver.manager.streams.info(driver.streamName)).state.messages;
      const stored = Number(result.position.split('.')[0]); // parts come first, so the final message's sequence counts them all
      for (let attempt = 0; attempt < 100 && (await messages()) !== stored; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await messages()).toBe(stored);
    } finally {
      await store.close();
    }
  });

  it('conditions pin the whole stream even when leftover parts of an abandoned large commit are its newest messages', async () => {
    const store = await openNatsStore({ servers, stream: prefix, namespace: 'orphans' });
    try {
      const driver = driverOf(store) as NatsDriver;
      await store.append('a', [{ type: 'Seen', data: 1, tags: ['t'] }]);
      // What a writer that died between its parts and its final message leaves behind.
      for (let i = 0; i < 20; i++) await driver.jetstream.publish(`${driver.streamName}.x.abandoned`, 'part');
      const first = await store.append('b', [{ type: 'Other', data: 1 }], {
        condition: { failIfEventsMatch: { types: ['Missing'] } },
      });
      expect(first.lastVersion).toBe(1);
      await expect(
        store.append('c', [{ type: 'X', data: 1 }], { condition: { failIfEventsMatch: { tags: ['t'] } } }),
      ).rejects.toBeInstanceOf(AppendConditionError);
      for (let i = 0; i < 20; i++) await driver.jetstream.publish(`${driver.streamName}.x.abandoned`, 'part');
      // Only parts after `after`: nothing matches, and the read of that range must not wait for commits.
      const second = await store.append('c', [{ type: 'X', data: 1 }], {
        condition: { failIfEventsMatch: { tags: ['t'] }, after: first.position },
      });
      expect(second.lastVersion).toBe(1);
      expect((await store.readAll()).map((e) => e.type)).toEqual(['Seen', 'Other', 'X']);
    } finally {
      await store.close();
    }
  });

  it('positions are <sequence>.<index>; readAll after a position inside a commit and across many commits', async () => {
    const store = await openNatsStore({ servers, stream: prefix, namespace: 'positions' });
    try {
      const results = [];
      for (let i = 0; i < 40; i++) {
        results.push(
          await store.append(
            `s-${i % 3}`,
            [0, 1, 2].map((j) => ({ type: 'P', data: { i, j } })),
          ),
        );
      }
      const all = await store.readAll();
      expect(all).toHaveLength(120);
      for (const [k, event] of all.entries()) {
        expect(event.position).toMatch(/^[1-9][0-9]*\.[0-2]$/);
        if (k > 0) expect(comparePositions(all[k - 1]!.position, event.position)).toBeLessThan(0);
      }
      // Inside a commit: after "<seq>.0" starts at index 1 of that commit.
      const middle = all[61]!;
      expect((await store.readAll({ after: all[60]!.position, limit: 2 })).map((e) => e.position)).toEqual([
        middle.position,
        all[62]!.position,
      ]);
      // Near the head (few commits, direct gets) and far from it (consumer) give the same answers.
      for (const from of [0, 50, 100, 110, 117]) {
        const after = from === 0 ? '0' : all[from - 1]!.position;
        expect((await store.readAll({ after })).map((e) => e.position)).toEqual(
          all.slice(from).map((e) => e.position),
        );
      }
      // A bare sequence precedes every event of that commit.
      const seq = all[30]!.position.split('.')[0]!;
      expect((await store.readAll({ after: seq, limit: 3 })).map((e) => e.position)).toEqual([
        `${seq}.0`,
        `${seq}.1`,
        `${seq}.2`,
      ]);
      // Reads leave no server-side consumers behind.
      const driver = driverOf(store) as NatsDriver;
      const consumers = async () =>
        (await driver.manager.streams.info(driver.streamName)).state.consumer_count;
      for (let attempt = 0; attempt < 100 && (await consumers()) > 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await consumers()).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('reads a long stream from any version, near the head (back links) and far from it (consumer) alike', async () => {
    const store = await openNatsStore({ servers, stream: prefix, namespace: 'long' });
    try {
      for (let i = 0; i < 30; i++)
        await store.append(
          'long',
          [0, 1, 2, 3].map((j) => ({ type: 'L', data: 4 * i + j + 1 })),
        );
      await store.append('other', [{ type: 'O', data: 0 }]);
      expect(await store.streamVersion('long')).toBe(120);
      for (const fromVersion of [1, 37, 90, 100, 117, 120]) {
        const events = await store.readStream('long', { fromVersion });
        expect(events.map((e) => e.data)).toEqual(
          Array.from({ length: 121 - fromVersion }, (_, k) => fromVersion + k),
        );
      }
      const backwards = await store.readStream('long', { direction: 'backwards', limit: 5 });
      expect(backwards.map((e) => e.version)).toEqual([120, 119, 118, 117, 116]);
      const window = await store.readStream('long', { fromVersion: 10, toVersion: 12 });
      expect(window.map((e) => e.version)).toEqual([10, 11, 12]);
    } finally {
      await store.close();
    }
  });

  it('exposes the connection, JetStream clients and names, and never closes an injected connection', async () => {
    const nc = await connect({ servers });
    try {
      const store = await openNatsStore({ servers, stream: prefix, namespace: 'injected', connection: nc });
      const driver = driverOf(store);
      expect(driver).toBeInstanceOf(NatsDriver);
      const nats = driver as NatsDriver;
      expect(nats.connection).toBe(nc);
      expect(nats.streamName).toBe(`${prefix}_injected`);
      expect((await nats.manager.streams.info(nats.streamName)).config.allow_direct).toBe(true);
      await store.append('a', [{ type: 'A', data: 1 }]);
      await store.close();
      expect(nc.isClosed()).toBe(false);
      await expect(store.streamVersion('a')).rejects.toBeInstanceOf(StoreClosedError);
      // The connection still serves another store.
      const again = await openNatsStore({ servers, stream: prefix, namespace: 'injected', connection: nc });
      expect(await again.streamVersion('a')).toBe(1);
      await again.close();
    } finally {
      await nc.close();
    }
    const owned = await openNatsStore({ servers, stream: prefix, namespace: 'injected' });
    const connection = (driverOf(owned) as NatsDriver).connection;
    await owned.close();
    expect(connection.isClosed()).toBe(true);
  });

  it('reports a commit it cannot decode as malformed records instead of hiding it', async () => {
    const store = await openNatsStore({ servers, stream: prefix, namespace: 'broken' });
    try {
      await store.append('s', [{ type: 'Ok', data: 1 }]);
      const driver = driverOf(store) as NatsDriver;
      const h = headers();
      h.set(VERSION_HEADER, '3');
      h.set(COUNT_HEADER, '2');
      h.set(PREVIOUS_HEADER, '1');
      await driver.jetstream.publish(commitSubject(driver.streamName, 's'), 'not a commit', { headers: h });
      const { events, malformed } = await store.readStreamWithErrors('s');
      expect(events.map((e) => e.version)).toEqual([1]);
      expect(malformed.map((m) => [m.streamId, m.version])).toEqual([
        ['s', 2],
        ['s', 3],
      ]);
      await expect(store.readStream('s')).rejects.toBeInstanceOf(MalformedRecordError);
      await expect(store.readAll()).rejects.toBeInstanceOf(MalformedRecordError);
    } finally {
      await store.close();
    }
  });

  it('wakes live subscriptions on appends of other connections through append notices', async () => {
    // A ten-minute poll interval: only the notice can deliver the event within this test's bound.
    const reader = await openNatsStore({
      servers,
      stream: prefix,
      namespace: 'notices',
      pollIntervalMs: 600_000,
    });
    const writer = await openNatsStore({ servers, stream: prefix, namespace: 'notices' });
    try {
      const seen: string[] = [];
      let caughtUp!: () => void;
      const ready = new Promise<void>((resolve) => {
        caughtUp = resolve;
      });
      const subscription = reader.subscribe({ onCaughtUp: () => caughtUp() }, (event) => {
        seen.push(event.type);
      });
      await ready;
      await writer.append('s', [{ type: 'FromElsewhere', data: 1 }]);
      for (let i = 0; i < 200 && seen.length === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen).toEqual(['FromElsewhere']);
      await subscription.close();
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it('keeps snapshots per stream id in a KV bucket and refuses ones larger than a message', async () => {
    const store = await openNatsStore({ servers, stream: prefix, namespace: 'snap' });
    try {
      await store.saveSnapshot('a.b', { version: 1, state: { id: 'a.b' } });
      await store.saveSnapshot('a_b', { version: 2, state: { id: 'a_b' } });
      expect((await store.loadSnapshot('a.b'))?.state).toEqual({ id: 'a.b' });
      expect((await store.loadSnapshot('a_b'))?.state).toEqual({ id: 'a_b' });
      expect(await store.loadSnapshot('a*b')).toBeNull();
      const huge = { blob: 'y'.repeat(2 * 1024 * 1024) };
      await expect(store.saveSnapshot('a.b', { version: 3, state: huge })).rejects.toBeInstanceOf(
        InvalidInputError,
      );
      expect((await store.loadSnapshot('a.b'))?.version).toBe(1);
    } finally {
      await store.close();
    }
  });
});
