import { describe, expect, it, vi } from 'vitest';
import { createMachineRepository } from '../../src/index.js';
import { describeWithService } from '../support/services.js';
import { type MachineBackend, machineBackends } from './fixtures/stores.js';
import { taskMachine, timeoutDeps } from './fixtures/task-machine.js';
import { expectExactlyOnce, runWorker, seed } from './fixtures/timeout-helpers.js';

function crashSuite(backend: MachineBackend) {
  it('a processor killed mid-run is replaced once its lease expires, still firing each timeout once', async () => {
    const { store, url, namespace, cleanup } = await backend.open();
    const repository = createMachineRepository({ store, machine: taskMachine, deps: timeoutDeps });
    const expired = async () => {
      let count = 0;
      for (let i = 0; i < 12; i++)
        if ((await repository.load(`due-${i}`)).state.type === 'Expired') count += 1;
      return count;
    };
    const workers: ReturnType<typeof runWorker>[] = [];
    try {
      await seed(store, 12, 1);
      // The first processor fires one timeout per tick, slowly, and is killed after a few.
      const first = runWorker(url!, namespace, 'lease', 'first', 'memory', {
        leaseTtlMs: 1_500,
        maxPerTick: 1,
        pauseMs: 150,
      });
      workers.push(first);
      await first.ready;
      first.child.send('go');
      await vi.waitFor(async () => expect(await expired()).toBeGreaterThanOrEqual(3), {
        timeout: 20_000,
        interval: 50,
      });
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      const firedBeforeCrash = await expired();
      expect(firedBeforeCrash).toBeLessThan(12);
      const second = runWorker(url!, namespace, 'lease', 'second', 'memory', { leaseTtlMs: 1_500 });
      workers.push(second);
      await second.ready;
      second.child.send('go');
      const result = await second.done;
      expect(result.fired).toBe(12 - firedBeforeCrash);
      await expectExactlyOnce(store, 12, 1);
    } finally {
      for (const w of workers)
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await cleanup();
    }
  });
}

for (const backend of machineBackends.filter((b) => b.name === 'sqlite' || b.name === 'postgres')) {
  const name = `timeout processor crash on ${backend.name}`;
  if (backend.service) describeWithService(backend.service, name, () => crashSuite(backend));
  else describe(name, () => crashSuite(backend));
}
