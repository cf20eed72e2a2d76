import { randomUUID } from 'node:crypto';
import { it } from 'vitest';
import { openPostgresStore } from '../../src/backends/postgres/index.js';
import { describeWithService, postgresUrl } from '../support/services.js';
import { leaseTakeover, usernameRace } from './projection-races.js';
import { projectionSuite } from './projection-suite.js';

const schema = `proj_${randomUUID().slice(0, 8)}`;

describeWithService('postgres', 'projections on PostgreSQL', () => {
  projectionSuite({
    open: () => openPostgresStore({ connectionString: postgresUrl, schema }),
    inline: 'async',
    leaseLoss: 'session',
  });

  it('withLockOn: 4 registrar processes never register a username twice', async () => {
    const store = await openPostgresStore({ connectionString: postgresUrl, schema });
    await store.close();
    await usernameRace(`${postgresUrl}?schema=${schema}`, 4, 20);
  });

  it('a SIGKILLed lease holder (advisory lock) is replaced and no event is applied twice', async () => {
    const takeoverMs = await leaseTakeover(`${postgresUrl}?schema=${schema}`, 1_000);
    console.log(`postgres lease takeover after SIGKILL: ${takeoverMs} ms`);
  });
});
