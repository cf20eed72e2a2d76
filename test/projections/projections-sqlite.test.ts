import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
import { openSqliteStore } from '../../src/backends/sqlite/index.js';
import { projectionSuite } from './projection-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'ordo-projections-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('projections on SQLite', () => {
  projectionSuite({
    open: () => openSqliteStore({ path: join(dir, 'store.db') }),
    inline: 'sync',
    leaseLoss: 'expiry',
  });
});
