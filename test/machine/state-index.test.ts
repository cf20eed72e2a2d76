import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createMachineRepository,
  createProjectedStateIndex,
  createProjectionRegistry,
  createStateIndex,
  defineStateIndexProjection,
  type EventStore,
  InvalidInputError,
  type MachineRepository,
  MalformedRecordError,
  type ProjectionRegistry,
  type StateIndex,
} from '../../src/index.js';
import { describeWithService } from '../support/services.js';
import { type MachineBackend, machineBackends } from './fixtures/stores.js';
import {
  okDeps,
  type TaskCommand,
  type TaskDeps,
  type TaskState,
  taskMachine,
} from './fixtures/task-machine.js';

type Waiting = Extract<TaskState, { type: 'Waiting' }>;
const owners = ['ann', 'bob', 'cy'];
const COUNT = 24;

/** The seeded model: what every query is checked against. */
function seedModel() {
  const waiting = new Map<string, Waiting>();
  const done = new Set<string>();
  for (let i = 0; i < COUNT; i++) {
    const id = `t${String(i).padStart(2, '0')}`;
    const state: Waiting = {
      type: 'Waiting',
      owner: owners[i % 3]!,
      priority: i % 5,
      deadline: `2026-01-01T10:${String(59 - i).padStart(2, '0')}:00.000Z`,
      urgent: i % 4 === 0,
    };
    if (i % 4 === 3) done.add(id);
    else waiting.set(id, state);
  }
  return { waiting, done };
}

type IndexKind = 'in-memory index' | 'projection index';

function suite(backend: MachineBackend, kind: IndexKind): void {
  let store: EventStore;
  let cleanup: () => Promise<void>;
  let repo: MachineRepository<TaskDeps, TaskCommand, TaskState>;
  let index: StateIndex<TaskState>;
  let registry: ProjectionRegistry | undefined;
  const model = seedModel();

  beforeAll(async () => {
    ({ store, cleanup } = await backend.open());
    repo = createMachineRepository({ store, machine: taskMachine, deps: okDeps });
    for (let i = 0; i < COUNT; i++) {
      const id = `t${String(i).padStart(2, '0')}`;
      const { type: _, ...fields } = model.waiting.get(id) ?? {
        type: 'Waiting',
        owner: owners[i % 3]!,
        priority: i % 5,
        deadline: `2026-01-01T10:${String(59 - i).padStart(2, '0')}:00.000Z`,
        urgent: i % 4 === 0,
      };
      await repo.handle(id, { type: 'Start', ...fields });
      if (model.done.has(id)) await repo.handle(id, { type: 'Finish', by: 'zed' });
    }
    // Unrelated events in the same store are ignored by the index.
    await store.append('other-stream', [{ type: 'Unrelated', data: { type: 'Waiting' } }]);
    if (kind === 'in-memory index') {
      index = createStateIndex({ store, machine: taskMachine, batchSize: 7 });
    } else {
      registry = createProjectionRegistry({
        store,
        projections: [defineStateIndexProjection(taskMachine)],
        leaseTtlMs: 2_000,
      });
      await registry.start();
      index = createProjectedStateIndex({ registry, machine: taskMachine });
    }
    await index.refresh();
  });

  afterAll(async () => {
    await index?.close();
    await registry?.stop();
    await cleanup?.();
  });

  const expectIds = (predicate: (s: Waiting) => boolean) =>
    [...model.waiting.entries()]
      .filter(([, s]) => predicate(s))
      .map(([id]) => id)
      .sort();

  it('finds machines by state with their version', async () => {
    const page = await index.find({ state: 'Waiting', limit: 1000 });
    expect(page.items.map((e) => e.id)).toEqual([...model.waiting.keys()].sort());
    expect(page.next).toBeNull();
    const done = await index.find({ state: 'Done', limit: 1000 });
    expect(done.items.map((e) => e.id)).toEqual([...model.done].sort());
    expect(done.items.every((e) => e.version === 2 && e.state.by === 'zed')).toBe(true);
    expect((await index.find({ limit: 1000 })).items).toHaveLength(COUNT);
    expect((await index.find({ state: ['Waiting', 'Done'], limit: 1000 })).items).toHaveLength(COUNT);
    expect((await index.find({ state: 'Expired' })).items).toEqual([]);
    expect(await index.get('t03')).toMatchObject({
      id: 't03',
      version: 2,
      streamId: 'task-t03',
      state: { type: 'Done' },
    });
  });

  it.each([
    ['eq (bare value)', { owner: 'bob' }, (s: Waiting) => s.owner === 'bob'],
    ['eq', { priority: { eq: 2 } }, (s: Waiting) => s.priority === 2],
    ['ne', { owner: { ne: 'ann' } }, (s: Waiting) => s.owner !== 'ann'],
    ['lt', { priority: { lt: 2 } }, (s: Waiting) => s.priority < 2],
    ['lte', { priority: { lte: 2 } }, (s: Waiting) => s.priority <= 2],
    [
      'gt',
      { deadline: { gt: '2026-01-01T10:45:00.000Z' } },
      (s: Waiting) => s.deadline > '2026-01-01T10:45:00.000Z',
    ],
    [
      'gte',
      { deadline: { gte: '2026-01-01T10:45:00.000Z' } },
      (s: Waiting) => s.deadline >= '2026-01-01T10:45:00.000Z',
    ],
    ['in', { owner: { in: ['ann', 'cy'] } }, (s: Waiting) => s.owner === 'ann' || s.owner === 'cy'],
    ['boolean', { urgent: true }, (s: Waiting) => s.urgent],
    [
      'range + other field',
      { priority: { gt: 0, lte: 3 }, owner: { ne: 'cy' } },
      (s: Waiting) => s.priority > 0 && s.priority <= 3 && s.owner !== 'cy',
    ],
    ['type mismatch matches nothing', { priority: { lt: '3' } }, () => false],
  ] as const)('filters with %s', async (_name, where, predicate) => {
    const page = await index.find({ state: 'Waiting', where: where as never, limit: 1000 });
    expect(page.items.map((e) => e.id).sort()).toEqual(expectIds(predicate));
  });

  it('orders and paginates with a cursor: every match exactly once, in order', async () => {
    const seen: { id: string; priority: number }[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await index.find({
        state: 'Waiting',
        orderBy: { field: 'priority', direction: 'desc' },
        limit: 5,
        ...(after ? { after } : {}),
      });
      seen.push(...page.items.map((e) => ({ id: e.id, priority: e.state.priority })));
      after = page.next ?? undefined;
      pages += 1;
    } while (after && pages < 50);
    const expected = [...model.waiting.entries()]
      .map(([id, s]) => ({ id, priority: s.priority }))
      .sort((a, b) => b.priority - a.priority || (a.id < b.id ? 1 : -1));
    expect(seen).toEqual(expected);
    expect(pages).toBe(Math.ceil(model.waiting.size / 5));
  });

  it('rejects bad queries with InvalidInputError', async () => {
    const bad = [
      { state: 'Waiting', where: { priority: { like: 1 } } },
      { state: 'Waiting', where: { priority: { in: 3 } } },
      { state: 'Waiting', where: { priority: { lt: { nested: 1 } } } },
      { state: 'Waiting', limit: 0 },
      { state: 'Waiting', limit: 1.5 },
      { state: 'Waiting', after: 'not-a-cursor' },
      { state: 'Waiting', orderBy: { field: 'priority', direction: 'sideways' } },
    ];
    for (const query of bad)
      await expect(index.find(query as never)).rejects.toBeInstanceOf(InvalidInputError);
    const first = await index.find({ state: 'Waiting', orderBy: 'priority', limit: 2 });
    await expect(
      index.find({ state: 'Waiting', orderBy: 'owner', after: first.next! }),
    ).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('follows new transitions live after start()', async () => {
    await index.start();
    await repo.handle('t00', { type: 'Finish', by: 'live' });
    await repo.handle('new-1', {
      type: 'Start',
      owner: 'dee',
      priority: 9,
      deadline: '2030-01-01T00:00:00.000Z',
    });
    await vi.waitFor(
      async () => {
        expect((await index.get('t00'))?.state).toMatchObject({ type: 'Done', by: 'live' });
        expect((await index.get('new-1'))?.state.type).toBe('Waiting');
      },
      { timeout: 10_000, interval: 50 },
    );
    expect((await index.find({ state: 'Waiting', where: { owner: 'dee' } })).items.map((e) => e.id)).toEqual([
      'new-1',
    ]);
  });
}

for (const backend of machineBackends) {
  for (const kind of ['in-memory index', 'projection index'] as const) {
    const name = `${kind} on ${backend.name}`;
    if (backend.service) describeWithService(backend.service, name, () => suite(backend, kind));
    else describe(name, () => suite(backend, kind));
  }
}

describe('projected state index', () => {
  it('refuses a registry without the state index projection', async () => {
    const { store, cleanup } = await machineBackends[0]!.open();
    const registry = createProjectionRegistry({ store, projections: [] });
    expect(() => createProjectedStateIndex({ registry, machine: taskMachine })).toThrow(InvalidInputError);
    await cleanup();
  });
});

describe('in-memory state index and bad records', () => {
  it('stops at a malformed machine record instead of skipping it', async () => {
    const { store, cleanup } = await machineBackends[0]!.open();
    const repo = createMachineRepository({ store, machine: taskMachine, deps: okDeps });
    await repo.handle('ok', { type: 'Start', owner: 'a', priority: 1, deadline: 'x' });
    await store.append('task-bad', [
      { type: 'ordo.machine.transition', data: { nope: true }, tags: ['machine:task'] },
    ]);
    const index = createStateIndex({ store, machine: taskMachine });
    await expect(index.refresh()).rejects.toBeInstanceOf(MalformedRecordError);
    await expect(index.refresh()).rejects.toBeInstanceOf(MalformedRecordError);
    await expect(index.start()).rejects.toBeInstanceOf(MalformedRecordError);
    await index.close();
    await cleanup();
  });
});
