import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMachineRepository } from '../../src/index.js';
import { describeWithService } from '../support/services.js';
import { forkWorker } from './fixtures/fork-worker.js';
import { type MachineBackend, machineBackends } from './fixtures/stores.js';
import { okDeps, taskMachine } from './fixtures/task-machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PROCESSES = 3;
const BUMPS = 8;

function worker(url: string, namespace: string) {
  return forkWorker<{ attempts: number }>(path.join(here, 'fixtures/bump-worker.ts'), [
    url,
    namespace,
    String(BUMPS),
  ]);
}

function raceSuite(backend: MachineBackend) {
  it(`${PROCESSES} processes handling commands on one machine: every command applied once, on the state it saw`, async () => {
    const { store, url, namespace, cleanup } = await backend.open();
    try {
      const repository = createMachineRepository({ store, machine: taskMachine, deps: okDeps });
      await repository.handle('shared', { type: 'Start', owner: 'o', priority: 1, deadline: 'x' });
      await repository.handle('shared', { type: 'Finish', by: 'b' });
      const workers = Array.from({ length: PROCESSES }, () => worker(url!, namespace));
      try {
        await Promise.all(workers.map((w) => w.ready));
        for (const w of workers) w.child.send('go');
        const results = await Promise.all(workers.map((w) => w.done));
        expect(results.reduce((sum, r) => sum + r.attempts, 0)).toBeGreaterThanOrEqual(PROCESSES * BUMPS);
      } finally {
        for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
      }
      const history = await repository.history('shared');
      expect(history.map((h) => h.version)).toEqual(
        Array.from({ length: 2 + PROCESSES * BUMPS }, (_, i) => i + 1),
      );
      // Each Bump was decided on the state right before it: the count increases by one each time.
      const counts = history.slice(2).map((h) => (h.to.type === 'Done' ? h.to.count : -1));
      expect(counts).toEqual(Array.from({ length: PROCESSES * BUMPS }, (_, i) => i + 2));
      expect(history.slice(2).every((h, i) => h.from.type === 'Done' && h.from.count === i + 1)).toBe(true);
    } finally {
      await cleanup();
    }
  });
}

for (const backend of machineBackends.filter((b) => b.name !== 'memory')) {
  const name = `machine repository race on ${backend.name}`;
  if (backend.service) describeWithService(backend.service, name, () => raceSuite(backend));
  else describe(name, () => raceSuite(backend));
}
