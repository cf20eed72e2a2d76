import { describe, expect, it } from 'vitest';
import {
  createInMemoryStore,
  createMachineRepository,
  InvalidInputError,
  InvalidTransitionError,
  MACHINE_TRANSITION_EVENT,
  MalformedRecordError,
  VersionConflictError,
} from '../../src/index.js';
import { okDeps, type TaskCommand, taskMachine } from './fixtures/task-machine.js';

const start: TaskCommand = { type: 'Start', owner: 'ann', priority: 2, deadline: '2026-01-01T11:00:00.000Z' };

function setup() {
  const store = createInMemoryStore();
  const repo = createMachineRepository({ store, machine: taskMachine, deps: okDeps });
  return { store, repo };
}

describe('machine repository', () => {
  it('loads the initial state of an unknown machine at version 0', async () => {
    const { repo } = setup();
    expect(await repo.load('t1')).toEqual({ id: 't1', state: { type: 'Idle' }, version: 0 });
  });

  it('appends one event per accepted transition holding the command and the new state', async () => {
    const { store, repo } = setup();
    const first = await repo.handle('t1', start);
    expect(first).toMatchObject({
      id: 't1',
      version: 1,
      attempts: 1,
      previousState: { type: 'Idle' },
      state: { type: 'Waiting' },
    });
    const second = await repo.handle('t1', { type: 'Finish', by: 'bob' });
    expect(second.version).toBe(2);
    const events = await store.readStream('task-t1');
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({
      type: MACHINE_TRANSITION_EVENT,
      data: {
        machine: 'task',
        id: 't1',
        from: 'Waiting',
        command: { type: 'Finish', by: 'bob' },
        state: second.state,
      },
    });
    expect(events[1]!.tags).toEqual(expect.arrayContaining(['machine:task', 'command:Finish', 'state:Done']));
    expect(second.position).toBe(events[1]!.position);
    expect(await repo.load('t1')).toEqual({ id: 't1', state: second.state, version: 2 });
  });

  it('returns the history of every transition from the stream', async () => {
    const { repo } = setup();
    await repo.handle('t1', start);
    await repo.handle('t1', { type: 'Finish', by: 'bob' });
    const history = await repo.history('t1');
    expect(history.map((h) => [h.version, h.from.type, h.command.type, h.to.type])).toEqual([
      [1, 'Idle', 'Start', 'Waiting'],
      [2, 'Waiting', 'Finish', 'Done'],
    ]);
    expect(history[1]!.timestamp).toBeInstanceOf(Date);
    expect(await repo.history('unknown')).toEqual([]);
  });

  it('writes nothing for a refused command', async () => {
    const { store, repo } = setup();
    await expect(repo.handle('t1', { type: 'Finish', by: 'x' })).rejects.toBeInstanceOf(
      InvalidTransitionError,
    );
    expect(await store.streamVersion('task-t1')).toBe(0);
  });

  it('rejects non-JSON commands with InvalidInputError and writes nothing', async () => {
    const { store, repo } = setup();
    await expect(repo.handle('t1', { ...start, priority: 10n } as never)).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(repo.handle('t1', { ...start, priority: Number.NaN })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(repo.handle('', start)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(repo.handle('t1', start, { expectedVersion: -1 })).rejects.toBeInstanceOf(InvalidInputError);
    expect(await store.streamVersion('task-t1')).toBe(0);
    expect(await store.readAll()).toEqual([]);
  });

  it('reloads and decides again after a conflict, so concurrent commands are all applied', async () => {
    const { store, repo } = setup();
    await repo.handle('t1', start);
    await repo.handle('t1', { type: 'Finish', by: 'bob' });
    const results = await Promise.all(Array.from({ length: 8 }, () => repo.handle('t1', { type: 'Bump' })));
    expect((await repo.load('t1')).state).toMatchObject({ type: 'Done', count: 9 });
    expect(results.some((r) => r.attempts > 1)).toBe(true);
    expect((await store.readStream('task-t1')).map((e) => e.version)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
  });

  it('with expectedVersion decides only on that version and does not retry', async () => {
    const { store, repo } = setup();
    await repo.handle('t1', start);
    await expect(
      repo.handle('t1', { type: 'Finish', by: 'b' }, { expectedVersion: 0 }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect(await store.streamVersion('task-t1')).toBe(1);
    expect((await repo.handle('t1', { type: 'Finish', by: 'b' }, { expectedVersion: 1 })).version).toBe(2);
  });

  it('is idempotent when the same command is re-sent with the same event id', async () => {
    const { store, repo } = setup();
    const a = await repo.handle('t1', start, { eventId: 'cmd-1' });
    const b = await repo.handle('t1', start, { eventId: 'cmd-1' });
    expect(b).toMatchObject({
      version: 1,
      state: a.state,
      previousState: { type: 'Idle' },
      position: a.position,
    });
    await repo.handle('t1', { type: 'Finish', by: 'bob' });
    const bump = await repo.handle('t1', { type: 'Bump' }, { eventId: 'bump-1' });
    const again = await repo.handle('t1', { type: 'Bump' }, { eventId: 'bump-1' });
    expect(again).toMatchObject({ version: bump.version, state: { count: 2 } });
    expect(await store.streamVersion('task-t1')).toBe(3);
  });

  it('reports a foreign record in a machine stream instead of skipping it', async () => {
    const { store, repo } = setup();
    await store.append('task-t9', [{ type: 'Something', data: { hello: 1 } }]);
    await expect(repo.load('t9')).rejects.toBeInstanceOf(MalformedRecordError);
    await expect(repo.history('t9')).rejects.toBeInstanceOf(MalformedRecordError);
  });

  it('uses a custom stream prefix', async () => {
    const store = createInMemoryStore();
    const repo = createMachineRepository({
      store,
      machine: taskMachine,
      deps: okDeps,
      streamPrefix: 'tasks/',
    });
    await repo.handle('a b', start);
    expect(repo.streamId('a b')).toBe('tasks/a b');
    expect(await store.streamVersion('tasks/a b')).toBe(1);
  });
});
