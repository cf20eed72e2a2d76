import { describe, expect, it } from 'vitest';
import { describeWithService } from '../support/services.js';
import { type MachineBackend, machineBackends } from './fixtures/stores.js';
import { expectExactlyOnce, runWorker, seed } from './fixtures/timeout-helpers.js';

function multiProcessSuite(backend: MachineBackend) {
  it.each([
    ['nolease', 'memory'],
    ['lease', 'memory'],
    ['nolease', 'projection'],
  ] as const)(
    'two processor processes (%s, %s index) fire each timeout exactly once',
    async (mode, indexKind) => {
      const { store, url, namespace, cleanup } = await backend.open();
      try {
        await seed(store, 16, 2);
        const workers = [
          runWorker(url!, namespace, mode, 'p1', indexKind),
          runWorker(url!, namespace, mode, 'p2', indexKind),
        ];
        try {
          await Promise.all(workers.map((w) => w.ready));
          for (const w of workers) w.child.send('go');
          const results = await Promise.all(workers.map((w) => w.done));
          expect(results.reduce((sum, r) => sum + r.fired, 0)).toBe(16);
          expect(results.every((r) => r.failed === 0)).toBe(true);
          if (mode === 'lease') expect(results.filter((r) => r.fired > 0)).toHaveLength(1);
        } finally {
          for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
        }
        await expectExactlyOnce(store, 16, 2);
      } finally {
        await cleanup();
      }
    },
  );
}

for (const backend of machineBackends.filter((b) => b.name !== 'memory')) {
  const name = `timeout processors in two OS processes on ${backend.name}`;
  if (backend.service) describeWithService(backend.service, name, () => multiProcessSuite(backend));
  else describe(name, () => multiProcessSuite(backend));
}
