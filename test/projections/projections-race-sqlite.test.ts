import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/backends/sqlite/index.js';
import { leaseTakeover, usernameRace } from './projection-races.js';

const dir = mkdtempSync(join(tmpdir(), 'ordo-projection-race-'));
const url = `sqlite:${join(dir, 'race.db')}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('projection races across processes on a SQLite file', () => {
  it('creates the schema once before the workers start', async () => {
    const store = await openSqliteStore({ path: join(dir, 'race.db') });
    expect(await store.headPosition()).toBe('0');
    await store.close();
  });

  it('withLockOn: 4 registrar processes never register a username twice', async () => {
    await usernameRace(url, 4, 20);
  });

  it('a SIGKILLed lease holder is replaced by the standby and no event is applied twice', async () => {
    const takeoverMs = await leaseTakeover(url, 1_000);
    console.log(`lease takeover after SIGKILL: ${takeoverMs} ms (lease ttl 1000 ms)`);
  });
});
