import { describe, expect, it, vi } from 'vitest';
import {
  createInMemoryStore,
  createMachineRepository,
  createProjectedStateIndex,
  createProjectionRegistry,
  createStateIndex,
  createTimeoutProcessor,
  defineStateIndexProjection,
  InvalidInputError,
} from '../../src/index.js';
import { NOW, type TaskCommand, taskMachine, timeoutDeps } from './fixtures/task-machine.js';
import { expectExactlyOnce, processorFor, rule, seed } from './fixtures/timeout-helpers.js';

describe('timeout processor (in process)', () => {
  it('fires due timeouts only, once each', async () => {
    const store = createInMemoryStore();
    await seed(store, 5, 3);
    const processor = processorFor(store, false);
    expect(await processor.tick()).toEqual({ held: true, fired: 5, skipped: 0, failed: 0 });
    expect(await processor.tick()).toEqual({ held: true, fired: 0, skipped: 0, failed: 0 });
    await expectExactlyOnce(store, 5, 3);
  });

  it('fires each timeout exactly once with two processors racing without a lease', async () => {
    const store = createInMemoryStore();
    await seed(store, 20, 2);
    const [a, b] = [processorFor(store, false), processorFor(store, false)];
    const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
    expect(ra.fired + rb.fired).toBe(20);
    expect(ra.failed + rb.failed).toBe(0);
    await expectExactlyOnce(store, 20, 2);
  });

  it('keeps the second processor idle while the first holds the lease', async () => {
    const store = createInMemoryStore();
    await seed(store, 4, 0);
    const a = processorFor(store, { owner: 'a' });
    const b = processorFor(store, { owner: 'b' });
    const ra = await a.tick();
    const rb = await b.tick();
    expect(ra).toEqual({ held: true, fired: 4, skipped: 0, failed: 0 });
    expect(rb).toEqual({ held: false, fired: 0, skipped: 0, failed: 0 });
    await a.stop(); // releases the lease
    expect((await b.tick()).held).toBe(true);
    await b.stop();
  });

  it('reports failures that are not lost races instead of dropping them', async () => {
    const store = createInMemoryStore();
    await seed(store, 2, 0);
    const errors: unknown[] = [];
    const processor = createTimeoutProcessor({
      repository: createMachineRepository({ store, machine: taskMachine, deps: timeoutDeps }),
      index: createStateIndex({ store, machine: taskMachine }),
      timeouts: [
        {
          state: 'Waiting',
          field: 'deadline',
          command: () => ({ type: 'Expire', at: 1n }) as unknown as TaskCommand,
        },
      ],
      lease: false,
      now: () => NOW,
      onError: (error) => errors.push(error),
    });
    expect(await processor.tick()).toEqual({ held: true, fired: 0, skipped: 0, failed: 2 });
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBeInstanceOf(InvalidInputError);
  });

  it('ticks on its own after start() until stopped', async () => {
    const store = createInMemoryStore();
    await seed(store, 3, 0);
    const processor = createTimeoutProcessor({
      repository: createMachineRepository({ store, machine: taskMachine, deps: timeoutDeps }),
      index: createStateIndex({ store, machine: taskMachine }),
      timeouts: [rule],
      now: () => NOW,
      intervalMs: 10,
    });
    processor.start();
    const repository = createMachineRepository({ store, machine: taskMachine, deps: timeoutDeps });
    await vi.waitFor(async () => expect((await repository.load('due-2')).state.type).toBe('Expired'), {
      timeout: 10_000,
    });
    await processor.stop();
    await expectExactlyOnce(store, 3, 0);
  });

  it('rejects a configuration without rules', () => {
    const store = createInMemoryStore();
    const repository = createMachineRepository({ store, machine: taskMachine, deps: timeoutDeps });
    const index = createStateIndex({ store, machine: taskMachine });
    expect(() => createTimeoutProcessor({ repository, index, timeouts: [] })).toThrow(InvalidInputError);
  });
});

describe('timeout processor over the projected state index', () => {
  it('fires due timeouts found through the projection documents', async () => {
    const store = createInMemoryStore();
    await seed(store, 4, 2);
    const registry = createProjectionRegistry({
      store,
      projections: [defineStateIndexProjection(taskMachine)],
    });
    await registry.start();
    try {
      const processor = createTimeoutProcessor({
        repository: createMachineRepository({ store, machine: taskMachine, deps: timeoutDeps }),
        index: createProjectedStateIndex({ registry, machine: taskMachine }),
        timeouts: [rule],
        lease: false,
        now: () => NOW,
      });
      expect(await processor.tick()).toEqual({ held: true, fired: 4, skipped: 0, failed: 0 });
      expect(await processor.tick()).toEqual({ held: true, fired: 0, skipped: 0, failed: 0 });
      await expectExactlyOnce(store, 4, 2);
    } finally {
      await registry.stop();
    }
  });
});
