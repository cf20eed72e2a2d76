import { describe, expect, it } from 'vitest';
import { createMachineTestSuite, InvalidInputError, InvalidTransitionError } from '../../src/index.js';
import { okDeps, type TaskDeps, type TaskState, taskMachine } from './fixtures/task-machine.js';

const start = { type: 'Start', owner: 'ann', priority: 1, deadline: '2026-01-01T11:00:00.000Z' } as const;
const waiting: TaskState = {
  type: 'Waiting',
  owner: 'ann',
  priority: 1,
  deadline: start.deadline,
  urgent: false,
};

describe('machine test suite', () => {
  it('runs given/when/then cases and draws the exercised transitions as a Mermaid diagram', async () => {
    let created = 0;
    const suite = createMachineTestSuite(taskMachine, {
      deps: (): TaskDeps => {
        created += 1;
        return okDeps;
      },
    });
    suite.case('start and finish', (c) =>
      c
        .when(start)
        .thenState(waiting)
        .when({ type: 'Finish', by: 'bob' })
        .thenState((s) => expect(s).toMatchObject({ type: 'Done', by: 'bob' }))
        .when(start)
        .thenError(InvalidTransitionError)
        .fork('bumped', (f) =>
          f.when({ type: 'Bump' }).thenState((s) => expect(s).toMatchObject({ count: 2 })),
        ),
    );
    suite.case('expire from a given state', (c) =>
      c
        .given(waiting)
        .when({ type: 'Expire' })
        .thenState({ type: 'Expired', owner: 'ann', deadline: start.deadline }),
    );
    expect(suite.cases.map((c) => c.name)).toEqual([
      'start and finish',
      'start and finish › bumped',
      'expire from a given state',
    ]);
    await suite.run();
    expect(suite.mermaid()).toBe(
      [
        'stateDiagram-v2',
        '    [*] --> Idle',
        '    Done --> Done: Bump',
        '    Idle --> Waiting: Start',
        '    Waiting --> Done: Finish',
        '    Waiting --> Expired: Expire',
        '    Done --> Done: ❌Start',
        '',
      ].join('\n'),
    );
    expect(suite.markdown('Task')).toBe(`# Task\n\n\`\`\`mermaid\n${suite.mermaid()}\`\`\`\n`);
    expect(created).toBe(3); // fresh deps per case run
  });

  it('fails a case whose state differs, naming the case and step', async () => {
    const suite = createMachineTestSuite(taskMachine, { deps: okDeps });
    const c = suite.case('wrong', (b) => b.when(start).thenState({ ...waiting, priority: 7 } as TaskState));
    await expect(c.run()).rejects.toThrow(/case "wrong", step 1 \(Start\)/);
  });

  it('fails a case that expects a refusal but gets a state, and the other way round', async () => {
    const suite = createMachineTestSuite(taskMachine, { deps: okDeps });
    const accepted = suite.case('accepted', (b) => b.when(start).thenError());
    const refused = suite.case('refused', (b) => b.when({ type: 'Bump' }).thenState({ type: 'Idle' }));
    const silent = suite.case('refused without expectation', (b) => b.when({ type: 'Bump' }));
    await expect(accepted.run()).rejects.toThrow(/expected a refusal/);
    await expect(refused.run()).rejects.toThrow(/expected the command to be accepted/);
    await expect(silent.run()).rejects.toThrow(/expected the command to be accepted/);
    await expect(suite.run()).rejects.toThrow();
  });

  it('checks the error class or predicate of a refusal', async () => {
    const suite = createMachineTestSuite(taskMachine, { deps: okDeps });
    const wrongClass = suite.case('wrong class', (b) =>
      b.when({ type: 'Bump' }).thenError(InvalidInputError),
    );
    await expect(wrongClass.run()).rejects.toThrow(/expected InvalidInputError/);
    const predicate = suite.case('predicate', (b) =>
      b
        .when({ type: 'Bump' })
        .thenError((e) => expect(e).toMatchObject({ commandType: 'Bump', stateType: 'Idle' })),
    );
    await expect(predicate.run()).resolves.toBeUndefined();
  });

  it('rejects misuse of the builder', () => {
    const suite = createMachineTestSuite(taskMachine, { deps: okDeps });
    expect(() => suite.case('then first', (b) => b.thenState(waiting))).toThrow(InvalidInputError);
    expect(() => suite.case('given late', (b) => b.when(start).given(waiting))).toThrow(InvalidInputError);
    expect(() => suite.case('two thens', (b) => b.when(start).thenState(waiting).thenState(waiting))).toThrow(
      InvalidInputError,
    );
  });
});
