import { randomUUID } from 'node:crypto';
import { it } from 'vitest';
import { openNatsStore } from '../../src/backends/nats/index.js';
import { describeWithService, natsUrl } from '../support/services.js';
import { leaseTakeover, usernameRace } from './projection-races.js';
import { projectionSuite } from './projection-suite.js';

const stream = `proj-${randomUUID().slice(0, 8)}`;
const servers = new URL(natsUrl).host;

describeWithService('nats', 'projections on NATS JetStream', () => {
  projectionSuite({
    open: () => openNatsStore({ servers, stream }),
    inline: 'unsupported',
    leaseLoss: 'expiry',
  });

  it('withLockOn: 4 registrar processes never register a username twice', async () => {
    await usernameRace(`${natsUrl}?stream=${stream}`, 4, 15);
  });

  it('a SIGKILLed lease holder (KV lease) is replaced and no event is applied twice', async () => {
    const takeoverMs = await leaseTakeover(`${natsUrl}?stream=${stream}`, 1_000);
    console.log(`nats lease takeover after SIGKILL: ${takeoverMs} ms`);
  });
});
