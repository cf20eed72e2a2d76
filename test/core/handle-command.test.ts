import { describe, expect, it, vi } from 'vitest';
import { createInMemoryStore } from '../../src/backends/memory/index.js';
import { InvalidInputError, isVersionConflict } from '../../src/core/errors.js';
import { type CommandHandlerDefinition, handleCommand, loadState } from '../../src/core/handle-command.js';
import type { EventStore, RecordedEvent } from '../../src/core/types.js';

interface Counter {
  total: number;
  seen: number;
}
type Add = { amount: number };

function counter(store?: EventStore, interfere?: (attempt: number) => Promise<void>) {
  let decisions = 0;
  const definition: CommandHandlerDefinition<Counter, Add> = {
    initialState: () => ({ total: 0, seen: 0 }),
    evolve: (state, event: RecordedEvent) => ({
      total: state.total + (event.data as { amount: number }).amount,
      seen: state.seen + 1,
    }),
    decide: async (command, _state) => {
      decisions++;
      await interfere?.(decisions);
      return command.amount === 0 ? [] : [{ type: 'Added', data: { amount: command.amount } }];
    },
  };
  return { definition, decisions: () => decisions, store };
}

const fast = { backoff: { initialDelayMs: 1, maxDelayMs: 2 } };

describe('handleCommand', () => {
  it('loads the stream, decides and appends with the loaded version', async () => {
    const store = createInMemoryStore();
    await store.append('c', [{ type: 'Added', data: { amount: 5 } }]);
    const appendSpy = vi.spyOn(store, 'append');
    const { definition } = counter();
    const result = await handleCommand(store, 'c', definition, { amount: 3 }, fast);
    expect(result.state).toEqual({ total: 8, seen: 2 });
    expect(result.result).toMatchObject({ streamId: 'c', firstVersion: 2, lastVersion: 2 });
    expect(result.events).toEqual([{ type: 'Added', data: { amount: 3 } }]);
    expect(result.attempts).toBe(1);
    expect(appendSpy).toHaveBeenCalledWith('c', [{ type: 'Added', data: { amount: 3 } }], {
      expectedVersion: 1,
    });
  });

  it('reloads and decides again when another writer moved the stream', async () => {
    const store = createInMemoryStore();
    const seenStates: Counter[] = [];
    const { definition, decisions } = counter(store, async (attempt) => {
      // A concurrent writer appends between this decision's load and its append, twice.
      if (attempt <= 2) await store.append('c', [{ type: 'Added', data: { amount: 100 } }]);
    });
    const decide = definition.decide;
    definition.decide = (command, state) => {
      seenStates.push(state);
      return decide(command, state);
    };
    const result = await handleCommand(store, 'c', definition, { amount: 1 }, fast);
    expect(decisions()).toBe(3);
    expect(result.attempts).toBe(3);
    expect(seenStates.map((s) => s.total)).toEqual([0, 100, 200]);
    expect(result.state).toEqual({ total: 201, seen: 3 });
    expect(result.result).toMatchObject({ firstVersion: 3, lastVersion: 3 });
    expect((await store.readStream('c')).map((e) => (e.data as { amount: number }).amount)).toEqual([
      100, 100, 1,
    ]);
  });

  it('gives up with the conflict after maxAttempts and writes nothing of its own', async () => {
    const store = createInMemoryStore();
    const { definition } = counter(store, async () => {
      await store.append('c', [{ type: 'Added', data: { amount: 100 } }]);
    });
    const error = await handleCommand(
      store,
      'c',
      definition,
      { amount: 1 },
      { ...fast, maxAttempts: 3 },
    ).catch((e) => e);
    expect(isVersionConflict(error)).toBe(true);
    const amounts = (await store.readStream('c')).map((e) => (e.data as { amount: number }).amount);
    expect(amounts).toEqual([100, 100, 100]);
  });

  it('appends nothing when the decision is empty', async () => {
    const store = createInMemoryStore();
    await store.append('c', [{ type: 'Added', data: { amount: 2 } }]);
    const appendSpy = vi.spyOn(store, 'append');
    const { definition } = counter();
    const result = await handleCommand(store, 'c', definition, { amount: 0 });
    expect(result).toEqual({ state: { total: 2, seen: 1 }, events: [], result: undefined, attempts: 1 });
    expect(appendSpy).not.toHaveBeenCalled();
    expect(await store.streamVersion('c')).toBe(1);
    // On an unknown stream too: deciding nothing creates nothing.
    expect((await handleCommand(store, 'new', definition, { amount: 0 })).result).toBeUndefined();
    expect(await store.streamVersion('new')).toBe(0);
  });

  it('does not retry errors thrown by decide', async () => {
    const store = createInMemoryStore();
    const failure = new Error('rejected command');
    const decide = vi.fn(() => {
      throw failure;
    });
    const definition = { ...counter().definition, decide };
    await expect(handleCommand(store, 'c', definition, { amount: 1 }, fast)).rejects.toBe(failure);
    expect(decide).toHaveBeenCalledTimes(1);
  });

  it('starts from a snapshot whose schema matches and folds only newer events', async () => {
    const store = createInMemoryStore();
    await store.append(
      'c',
      [1, 2, 3, 4].map((amount) => ({ type: 'Added', data: { amount } })),
    );
    // A snapshot state that folding the events could never produce proves it was used.
    await store.saveSnapshot('c', { version: 3, state: { total: 1000, seen: 0 }, schema: 'counter-v1' });
    const { definition } = counter();
    const withSnapshot = await handleCommand(
      store,
      'c',
      definition,
      { amount: 0 },
      { snapshot: { schema: 'counter-v1' } },
    );
    expect(withSnapshot.state).toEqual({ total: 1004, seen: 1 });
    const otherSchema = await handleCommand(
      store,
      'c',
      definition,
      { amount: 0 },
      { snapshot: { schema: 'counter-v2' } },
    );
    expect(otherSchema.state).toEqual({ total: 10, seen: 4 });
    const noSnapshotOption = await handleCommand(store, 'c', definition, { amount: 0 });
    expect(noSnapshotOption.state).toEqual({ total: 10, seen: 4 });
    // The append after a snapshot load still uses the stream's real version.
    const appended = await handleCommand(
      store,
      'c',
      definition,
      { amount: 6 },
      { snapshot: { schema: 'counter-v1' } },
    );
    expect(appended.result).toMatchObject({ firstVersion: 5, lastVersion: 5 });
    expect(appended.state).toEqual({ total: 1010, seen: 2 });
  });

  it('uses snapshots saved without a schema when the snapshot option has none', async () => {
    const store = createInMemoryStore();
    const { definition } = counter();
    const options = { snapshot: { every: 2 } };
    await handleCommand(store, 'c', definition, { amount: 1 }, options);
    await handleCommand(store, 'c', definition, { amount: 1 }, options);
    expect(await store.loadSnapshot('c')).toMatchObject({ version: 2, schema: '' });
    // Overwrite the snapshot with a state folding could never produce: the next load must use it.
    await store.saveSnapshot('c', { version: 2, state: { total: 500, seen: 0 } });
    const next = await handleCommand(store, 'c', definition, { amount: 1 }, options);
    expect(next.state).toEqual({ total: 501, seen: 1 });
  });

  it('saves a snapshot every `every` events with the schema', async () => {
    const store = createInMemoryStore();
    const { definition } = counter();
    const options = { snapshot: { schema: 's1', every: 3 } };
    await handleCommand(store, 'c', definition, { amount: 1 }, options);
    await handleCommand(store, 'c', definition, { amount: 1 }, options);
    expect(await store.loadSnapshot('c')).toBeNull();
    await handleCommand(store, 'c', definition, { amount: 1 }, options);
    expect(await store.loadSnapshot('c')).toMatchObject({
      version: 3,
      state: { total: 3, seen: 3 },
      schema: 's1',
    });
    for (let i = 0; i < 3; i++) await handleCommand(store, 'c', definition, { amount: 2 }, options);
    expect(await store.loadSnapshot('c')).toMatchObject({
      version: 6,
      state: { total: 9, seen: 6 },
      schema: 's1',
    });
    expect(await loadState(store, 'c', definition, 's1')).toEqual({
      state: { total: 9, seen: 6 },
      version: 6,
    });
  });

  it('rejects an incomplete definition with InvalidInputError', async () => {
    const store = createInMemoryStore();
    await expect(handleCommand(store, 'c', {} as never, {})).rejects.toBeInstanceOf(InvalidInputError);
    expect(await store.streamVersion('c')).toBe(0);
  });
});
