import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import type { EventStore } from '../../src/core/types.js';
import { openStore } from '../../src/open-store.js';
import { deleteStreams, natsServer } from '../nats/nats-helpers.js';
import { natsUrl, postgresUrl } from '../support/services.js';

/** A backend under test: how to open it, and which server it needs (if any). */
export interface ReliabilityTarget {
  name: string;
  service?: 'postgres' | 'nats';
  /** A URL that other OS processes can open too (absent for the in-memory store). */
  url: () => string;
  /** Smaller run counts for backends with network round trips. */
  runs: number;
}

const sqliteDir = mkdtempSync(join(tmpdir(), 'ordo-reliability-'));
const suffix = randomUUID().slice(0, 8);

export const targets: ReliabilityTarget[] = [
  { name: 'memory', url: () => 'memory:', runs: 60 },
  { name: 'sqlite', url: () => `sqlite:${join(sqliteDir, 'store.db')}`, runs: 30 },
  { name: 'postgres', service: 'postgres', url: () => `${postgresUrl}?schema=ordo_rel_${suffix}`, runs: 15 },
  { name: 'nats', service: 'nats', url: () => `${natsUrl}?stream=ordo-rel-${suffix}`, runs: 15 },
];

/** Opens the target's store in a fresh namespace so runs never see each other's events. */
export async function openIsolated(target: ReliabilityTarget, root?: EventStore): Promise<EventStore> {
  const store = root ?? (await openStore(target.url()));
  return store.withNamespace(`r${randomUUID().replaceAll('-', '').slice(0, 20)}`);
}

// Each test file gets its own scratch SQLite directory, PostgreSQL schema and NATS streams; they
// are removed when the file ends so runs leave nothing behind on the shared servers.
afterAll(async () => {
  rmSync(sqliteDir, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin
    .connect()
    .then(() => admin.query(`DROP SCHEMA IF EXISTS "ordo_rel_${suffix}" CASCADE`))
    .catch(() => {})
    .finally(() => admin.end().catch(() => {}));
  await deleteStreams(`ordo-rel-${suffix}`, natsServer(natsUrl)).catch(() => {});
});
