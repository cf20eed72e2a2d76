import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStoreConfig, sqliteDriverOf } from '../../src/backends/sqlite/index.js';
import { InvalidInputError } from '../../src/core/errors.js';
import type { EventStore } from '../../src/core/types.js';
import { openStore } from '../../src/open-store.js';
import { tempDir } from './run-worker.js';

function pragma(store: EventStore, name: string): unknown {
  return sqliteDriverOf(store)!.database.pragma(name, { simple: true });
}

describe('sqlite pragmas and configuration', () => {
  it('uses WAL, synchronous=FULL and a busy timeout by default', async () => {
    const store = await openSqliteStore({ path: join(tempDir(), 'defaults.db') });
    expect(pragma(store, 'journal_mode')).toBe('wal');
    expect(pragma(store, 'synchronous')).toBe(2); // FULL
    expect(pragma(store, 'busy_timeout')).toBe(5000);
    expect(store.capabilities).toMatchObject({ durable: true, multiProcess: true });
    await store.close();
  });

  it('uses synchronous=NORMAL only when asked to, and the given busy timeout', async () => {
    const store = await openSqliteStore({
      path: join(tempDir(), 'normal.db'),
      synchronous: 'NORMAL',
      busyTimeoutMs: 250,
    });
    expect(pragma(store, 'synchronous')).toBe(1); // NORMAL
    expect(pragma(store, 'busy_timeout')).toBe(250);
    await store.close();
  });

  it('creates missing parent directories of the file', async () => {
    const path = join(tempDir(), 'a', 'b', 'c', 'store.db');
    const store = await openStore(`sqlite:${path}`);
    await store.append('s', [{ type: 'A', data: {} }]);
    await store.close();
    expect(existsSync(path)).toBe(true);
  });

  it('rejects bad configuration with InvalidInputError before creating anything', async () => {
    const dir = tempDir();
    const path = join(dir, 'never', 'created.db');
    const bad: unknown[] = [
      { path: '' },
      { path, synchronous: 'OFF' },
      { path, busyTimeoutMs: -1 },
      { path, busyTimeoutMs: 1.5 },
      { path, pollIntervalMs: Number.NaN },
      { path, namespace: 'no spaces' },
    ];
    for (const config of bad) {
      await expect(openSqliteStore(config as SqliteStoreConfig)).rejects.toBeInstanceOf(InvalidInputError);
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it("keeps each ':memory:' store private and declares it neither durable nor multi-process", async () => {
    const a = await openSqliteStore({ path: ':memory:' });
    const b = await openStore('sqlite::memory:');
    await a.append('s', [{ type: 'A', data: 1 }]);
    expect(await b.streamVersion('s')).toBe(0);
    expect(a.capabilities).toMatchObject({ durable: false, multiProcess: false, transactionalInline: true });
    await a.close();
    await b.close();
  });
});
