import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteStore, sqliteDriverOf } from '../../src/backends/sqlite/index.js';
import type { EventStore } from '../../src/core/types.js';
import { runEventStoreConformance } from '../../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ordo-sqlite-conformance-'));
const path = join(dir, 'store.db');

async function corrupt(store: EventStore, streamId: string, version: number): Promise<void> {
  const driver = sqliteDriverOf(store);
  if (!driver) throw new Error('not a SQLite store');
  driver.corrupt(streamId, version);
}

runEventStoreConformance({
  name: 'sqlite',
  create: () => openSqliteStore({ path }),
  url: `sqlite:${path}`,
  corrupt,
});
runEventStoreConformance({
  name: 'sqlite :memory:',
  create: () => openSqliteStore({ path: ':memory:' }),
  corrupt,
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));
