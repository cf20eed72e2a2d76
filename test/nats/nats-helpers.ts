import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** `host:port` of the shared test server. */
export function natsServer(url = process.env.ORDO_TEST_NATS_URL ?? 'nats://127.0.0.1:4222'): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '4222'}`;
}

/** A stream-name prefix unique to this test run (letters, digits and `-`). */
export function uniquePrefix(label: string): string {
  return `t-${label}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every JetStream stream (event streams and snapshot buckets) created under `prefix`. */
export async function deleteStreams(prefix: string, server = natsServer()): Promise<void> {
  const nc = await connect({ servers: server });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(`${prefix}_`) || name.startsWith(`KV_${prefix}_`)) names.push(name);
    }
    for (const name of names) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}
