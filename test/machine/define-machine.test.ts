import { describe, expect, it } from 'vitest';
import {
  defineMachine,
  InvalidInputError,
  InvalidTransitionError,
  isInvalidTransition,
  match,
  matchPartial,
  OrdoError,
} from '../../src/index.js';
import { okDeps, type TaskDeps, type TaskState, taskMachine } from './fixtures/task-machine.js';

const start = { type: 'Start', owner: 'ann', priority: 2, deadline: '2026-01-01T11:00:00.000Z' } as const;

describe('defineMachine', () => {
  it('handles commands on a per-request instance and returns the new state', async () => {
    const instance = taskMachine.create(okDeps);
    expect(instance.state).toEqual({ type: 'Idle' });
    const waiting = await instance.handle(start);
    expect(waiting).toEqual({
      type: 'Waiting',
      owner: 'ann',
      priority: 2,
      deadline: start.deadline,
      urgent: false,
    });
    expect(instance.state).toBe(waiting);
    expect(await instance.handle({ type: 'Finish', by: 'bob' })).toEqual({
      type: 'Done',
      owner: 'ann',
      by: 'bob',
      count: 1,
    });
  });

  it('refuses with InvalidTransitionError naming command and state, and keeps the state', async () => {
    const instance = taskMachine.create(okDeps);
    const error = await instance.handle({ type: 'Finish', by: 'bob' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTransitionError);
    expect(error).toBeInstanceOf(OrdoError);
    expect(isInvalidTransition(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'INVALID_TRANSITION',
      machine: 'task',
      commandType: 'Finish',
      stateType: 'Idle',
    });
    expect(instance.state).toEqual({ type: 'Idle' });
  });

  it('passes the reason given to ctx.invalid', async () => {
    const instance = taskMachine.create(okDeps, {
      type: 'Waiting',
      owner: 'a',
      priority: 1,
      deadline: '2999-01-01T00:00:00.000Z',
      urgent: false,
    });
    await expect(instance.handle({ type: 'Expire' })).rejects.toMatchObject({
      reason: 'not due',
      stateType: 'Waiting',
    });
  });

  it('uses injected deps, so the clock decides', async () => {
    const waiting: TaskState = {
      type: 'Waiting',
      owner: 'a',
      priority: 1,
      deadline: '2026-01-01T12:00:00.000Z',
      urgent: false,
    };
    const early: TaskDeps = { ...okDeps, now: () => new Date('2026-01-01T11:59:59.999Z') };
    await expect(taskMachine.create(early, waiting).handle({ type: 'Expire' })).rejects.toBeInstanceOf(
      InvalidTransitionError,
    );
    expect((await taskMachine.create(okDeps, waiting).handle({ type: 'Expire' })).type).toBe('Expired');
  });

  it('keeps the failed command and previous state in an error state and replays it on retry', async () => {
    let up = false;
    const deps: TaskDeps = { ...okDeps, finishService: async () => up };
    const instance = taskMachine.create(deps);
    const waiting = await instance.handle(start);
    const failed = await instance.handle({ type: 'Finish', by: 'bob' });
    expect(failed).toEqual({
      type: 'Failed',
      reason: 'service down',
      failedCommand: { type: 'Finish', by: 'bob' },
      previousState: waiting,
    });
    up = true;
    expect(await instance.handle({ type: 'Retry' })).toEqual({
      type: 'Done',
      owner: 'ann',
      by: 'bob',
      count: 1,
    });
  });

  it('rejects malformed commands and states with InvalidInputError', async () => {
    const instance = taskMachine.create(okDeps);
    await expect(instance.handle(null as never)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(instance.handle({ kind: 'Start' } as never)).rejects.toBeInstanceOf(InvalidInputError);
    expect(() => taskMachine.create(okDeps, { nope: true } as never)).toThrow(InvalidInputError);
    expect(() => defineMachine({ initial: { type: 'A' }, transition: undefined as never })).toThrow(
      InvalidInputError,
    );
    expect(() =>
      defineMachine({ name: 'bad name!', initial: { type: 'A' }, transition: (_c, _d, _m, s) => s }),
    ).toThrow(InvalidInputError);
  });

  it('refuses a second concurrent handle on the same instance', async () => {
    let release: (ok: boolean) => void = () => {};
    const deps: TaskDeps = {
      ...okDeps,
      finishService: () => new Promise<boolean>((resolve) => (release = resolve)),
    };
    const instance = taskMachine.create(deps, {
      type: 'Waiting',
      owner: 'a',
      priority: 1,
      deadline: 'x',
      urgent: false,
    });
    const first = instance.handle({ type: 'Finish', by: 'b' });
    await expect(instance.handle({ type: 'Finish', by: 'c' })).rejects.toMatchObject({
      code: 'MACHINE_BUSY',
    });
    release(true);
    expect((await first).type).toBe('Done');
  });

  it('treats a transition that returns nothing as an invalid transition', async () => {
    const broken = defineMachine<null, { type: 'Go' }, { type: 'A' }>({
      initial: () => ({ type: 'A' }),
      transition: () => undefined as never,
    });
    await expect(broken.create(null).handle({ type: 'Go' })).rejects.toBeInstanceOf(InvalidTransitionError);
  });

  it('gives every instance its own copy of an initial state value', async () => {
    const m = defineMachine<null, { type: 'Add' }, { type: 'List'; items: number[] }>({
      initial: { type: 'List', items: [] },
      transition: (_ctx, _deps, _cmd, state) => {
        state.items.push(1); // a careless transition mutating its input
        return state;
      },
    });
    await m.create(null).handle({ type: 'Add' });
    expect(m.create(null).state.items).toEqual([]);
  });
});

describe('match', () => {
  type Shape = { type: 'circle'; r: number } | { type: 'square'; side: number };
  const area = (s: Shape) => match(s, { circle: (c) => Math.PI * c.r ** 2, square: (q) => q.side ** 2 });

  it('calls the handler of the variant', () => {
    expect(area({ type: 'square', side: 3 })).toBe(9);
    expect(area({ type: 'circle', r: 1 })).toBeCloseTo(Math.PI);
  });

  it('throws InvalidInputError for a variant without handler at run time', () => {
    expect(() => area({ type: 'triangle' } as never)).toThrow(InvalidInputError);
    expect(() => area(null as never)).toThrow(InvalidInputError);
    // Inherited keys are not handlers.
    expect(() => area({ type: 'toString' } as never)).toThrow(InvalidInputError);
  });

  it('matchPartial falls back to otherwise', () => {
    const name = (s: Shape) => matchPartial(s, { circle: () => 'round' }, (other) => `other ${other.type}`);
    expect(name({ type: 'circle', r: 1 })).toBe('round');
    expect(name({ type: 'square', side: 1 })).toBe('other square');
  });
});
