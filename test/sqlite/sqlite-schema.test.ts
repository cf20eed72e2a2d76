import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  migrateSqlite,
  openSqliteStore,
  SQLITE_SCHEMA_VERSION,
  schemaVersion,
  sqliteDriverOf,
} from '../../src/backends/sqlite/index.js';
import { AppendConditionError, StoreUnavailableError } from '../../src/core/errors.js';
import { runWorker, tempDir } from './run-worker.js';

function migrationRows(path: string): number[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[];
  } finally {
    db.close();
  }
}

describe('sqlite schema migrations', () => {
  it('creates the latest schema in a new file and records every step once', async () => {
    const path = join(tempDir(), 'new.db');
    const store = await openSqliteStore({ path });
    expect(schemaVersion(sqliteDriverOf(store)!.database)).toBe(SQLITE_SCHEMA_VERSION);
    await store.close();
    expect(migrationRows(path)).toEqual(Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('reopens an existing file without re-applying steps and keeps its data', async () => {
    const path = join(tempDir(), 'reopen.db');
    let store = await openSqliteStore({ path });
    await store.append('s', [{ type: 'A', data: 1 }]);
    await store.close();
    for (let i = 0; i < 3; i++) {
      store = await openSqliteStore({ path });
      await store.append('s', [{ type: 'A', data: i + 2 }], { expectedVersion: i + 1 });
      await store.close();
    }
    expect(migrationRows(path)).toEqual(Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => i + 1));
    store = await openSqliteStore({ path });
    expect((await store.readStream('s')).map((e) => e.data)).toEqual([1, 2, 3, 4]);
    await store.close();
  });

  it('upgrades a file written by schema version 1, indexing the tags of its events', async () => {
    const path = join(tempDir(), 'v1.db');
    const db = new Database(path);
    migrateSqlite(db, 1);
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'event_tags'").get()).toBeUndefined();
    const key = db
      .prepare("INSERT INTO streams (namespace, stream_id, version) VALUES ('default', 'old', 2)")
      .run().lastInsertRowid;
    const insert = db.prepare(
      `INSERT INTO events (namespace, stream_key, stream_id, version, event_id, type, data, metadata, tags, timestamp)
       VALUES ('default', ?, 'old', ?, ?, ?, ?, '{}', ?, 0)`,
    );
    insert.run(key, 1, 'e1', 'Opened', '{"n":1}', 'room:1\u0000floor:2');
    insert.run(key, 2, 'e2', 'Closed', '{"n":2}', '');
    db.close();

    const store = await openSqliteStore({ path });
    expect(schemaVersion(sqliteDriverOf(store)!.database)).toBe(SQLITE_SCHEMA_VERSION);
    const events = await store.readStream('old');
    expect(events.map((e) => [e.version, e.type, e.tags])).toEqual([
      [1, 'Opened', ['room:1', 'floor:2']],
      [2, 'Closed', []],
    ]);
    expect((await store.readAll({ filter: { tags: ['floor:2'] } })).map((e) => e.id)).toEqual(['e1']);
    await expect(
      store.append('other', [{ type: 'X', data: null }], {
        condition: { failIfEventsMatch: { tags: ['room:1'] } },
      }),
    ).rejects.toBeInstanceOf(AppendConditionError);
    const result = await store.append('old', [{ type: 'Reopened', data: {} }], { expectedVersion: 2 });
    expect(result.firstVersion).toBe(3);
    await store.close();
  });

  it('refuses a file written by a newer schema version and leaves it unchanged', async () => {
    const path = join(tempDir(), 'future.db');
    const db = new Database(path);
    migrateSqlite(db);
    db.prepare(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', 0)",
    ).run();
    db.close();
    const error = await openSqliteStore({ path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(String((error as Error).message)).toContain('999');
    expect(migrationRows(path)).toContain(999);
  });

  it('lets several processes open and migrate the same new file at once', async () => {
    const dir = tempDir();
    const path = join(dir, 'nested', 'shared.db');
    const outputs = await Promise.all(
      Array.from({ length: 4 }, () => runWorker('sqlite-open-append', [path, 'default', 'shared', '15'])),
    );
    for (const output of outputs) expect(output.trim()).toBe(`done ${SQLITE_SCHEMA_VERSION}`);
    expect(existsSync(path) && statSync(path).isFile()).toBe(true);
    expect(migrationRows(path)).toEqual(Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => i + 1));
    const store = await openSqliteStore({ path });
    const events = await store.readStream('shared');
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(await store.streamVersion('shared')).toBe(60);
    await store.close();
  }, 40_000);
});
