import assert from 'node:assert/strict';
import { InvalidInputError } from '../core/errors.js';
import type { Machine } from './define-machine.js';
import { InvalidTransitionError } from './invalid-transition-error.js';
import type { Tagged } from './match.js';

/** Constructor options of {@link createMachineTestSuite}. */
export interface MachineTestSuiteConfig<Deps> {
  /** Deps of every case: a value, or a factory called once per case run (fresh fakes per case). */
  deps: Deps | (() => Deps);
}

type ErrorExpectation = (new (...args: never[]) => Error) | ((error: unknown) => void);

interface Step<Command, State> {
  command: Command;
  expect?: { state: State | ((state: State) => void) } | { error: ErrorExpectation | undefined };
}

/** Builds the steps of one case: `given` a state, `when` a command, `then` the expected outcome. */
export interface MachineCaseBuilder<Command extends Tagged, State extends Tagged> {
  /** Starting state (default: the machine's initial state). Only before the first `when`. */
  given(state: State): this;
  /** Handles a command; without a following `thenState`/`thenError` the command only has to be accepted. */
  when(command: Command): this;
  /** The state after the last `when`: deep-equal to `expected`, or checked by the function. */
  thenState(expected: State | ((state: State) => void)): this;
  /**
   * The last `when` must be refused: by an error of this class (default `InvalidTransitionError`)
   * or one the function accepts. The state stays what it was.
   */
  thenError(expected?: ErrorExpectation): this;
  /** A further case that continues from this point with its own steps. */
  fork(name: string, build: (c: MachineCaseBuilder<Command, State>) => void): this;
}

/** A runnable case; `run()` rejects with an assertion error naming the failing step. */
export interface MachineTestCase {
  readonly name: string;
  run(): Promise<void>;
}

/**
 * Given/when/then cases for a machine, in the style of table-driven machine tests. Every
 * transition a case exercises (and every refusal) is recorded, so `mermaid()` draws the state
 * diagram the tests actually cover. Cases are independent: each run gets a fresh instance.
 */
export interface MachineTestSuite<Command extends Tagged, State extends Tagged> {
  /** Adds a case (and its forks). */
  case(name: string, build: (c: MachineCaseBuilder<Command, State>) => void): MachineTestCase;
  /** Every case in the order added, forks after their parent. */
  readonly cases: readonly MachineTestCase[];
  /** Runs every case once, in order; rejects on the first failure. */
  run(): Promise<void>;
  /**
   * Mermaid `stateDiagram-v2` of the transitions exercised so far: accepted ones as
   * `From --> To: Command`, refused ones as `From --> From: ❌Command`. Lines are sorted, so the
   * output only changes when coverage changes.
   */
  mermaid(): string;
  /** `mermaid()` in a Markdown document with a fenced block, under an optional title. */
  markdown(title?: string): string;
}

/** Creates a {@link MachineTestSuite} for `machine`. */
export function createMachineTestSuite<Deps, Command extends Tagged, State extends Tagged>(
  machine: Machine<Deps, Command, State>,
  config: MachineTestSuiteConfig<Deps>,
): MachineTestSuite<Command, State> {
  const cases: MachineTestCase[] = [];
  const initials = new Set<string>();
  const accepted = new Set<string>();
  const refused = new Set<string>();
  const makeDeps = (): Deps =>
    typeof config.deps === 'function' ? (config.deps as () => Deps)() : config.deps;

  const addCase = (
    name: string,
    given: State | undefined,
    prefix: Step<Command, State>[],
    build: (c: MachineCaseBuilder<Command, State>) => void,
  ) => {
    let start = given;
    const steps: Step<Command, State>[] = [...prefix];
    const forks: [string, number, (c: MachineCaseBuilder<Command, State>) => void][] = [];
    const last = (what: string): Step<Command, State> => {
      const step = steps[steps.length - 1];
      if (!step || steps.length === prefix.length)
        throw new InvalidInputError(what, `${what} needs a preceding when() in case ${JSON.stringify(name)}`);
      if (step.expect)
        throw new InvalidInputError(
          what,
          `the last when() already has an expectation in case ${JSON.stringify(name)}`,
        );
      return step;
    };
    const builder: MachineCaseBuilder<Command, State> = {
      given(state) {
        if (steps.length > 0)
          throw new InvalidInputError(
            'given',
            `given() must come before when() in case ${JSON.stringify(name)}`,
          );
        start = state;
        return this;
      },
      when(command) {
        steps.push({ command });
        return this;
      },
      thenState(expected) {
        last('thenState').expect = { state: expected };
        return this;
      },
      thenError(expected) {
        last('thenError').expect = { error: expected };
        return this;
      },
      fork(forkName, forkBuild) {
        forks.push([forkName, steps.length, forkBuild]);
        return this;
      },
    };
    build(builder);
    const testCase: MachineTestCase = {
      name,
      run: () => runCase(name, start, steps),
    };
    cases.push(testCase);
    for (const [forkName, at, forkBuild] of forks)
      addCase(`${name} › ${forkName}`, start, steps.slice(0, at), forkBuild);
    return testCase;
  };

  const runCase = async (
    name: string,
    given: State | undefined,
    steps: Step<Command, State>[],
  ): Promise<void> => {
    const instance = machine.create(makeDeps(), given === undefined ? undefined : structuredClone(given));
    if (given === undefined) initials.add(instance.state.type);
    for (const [i, step] of steps.entries()) {
      const where = `case ${JSON.stringify(name)}, step ${i + 1} (${step.command.type})`;
      const before = instance.state;
      let outcome: { state: State } | { error: unknown };
      try {
        outcome = { state: await instance.handle(step.command) };
      } catch (error) {
        outcome = { error };
      }
      if ('error' in outcome) {
        refused.add(`${before.type}\u0000${step.command.type}`);
        if (!step.expect || !('error' in step.expect)) {
          throw new assert.AssertionError({
            message: `${where}: expected the command to be accepted, got ${String(outcome.error)}`,
            actual: outcome.error,
          });
        }
        checkError(step.expect.error, outcome.error, where);
        assert.deepStrictEqual(instance.state, before, `${where}: a refused command must keep the state`);
        continue;
      }
      accepted.add(`${before.type}\u0000${outcome.state.type}\u0000${step.command.type}`);
      if (step.expect && 'error' in step.expect) {
        throw new assert.AssertionError({
          message: `${where}: expected a refusal, got state ${outcome.state.type}`,
          actual: outcome.state,
        });
      }
      if (step.expect) {
        const expected = step.expect.state;
        if (typeof expected === 'function') expected(outcome.state);
        else assert.deepStrictEqual(outcome.state, expected, `${where}: unexpected state`);
      }
    }
  };

  const mermaid = (): string => {
    const lines = ['stateDiagram-v2'];
    for (const initial of [...initials].sort()) lines.push(`    [*] --> ${initial}`);
    const edges = [...accepted]
      .map((key) => key.split('\u0000') as [string, string, string])
      .sort(compareTuples);
    for (const [from, to, command] of edges) lines.push(`    ${from} --> ${to}: ${command}`);
    const refusals = [...refused].map((key) => key.split('\u0000') as [string, string]).sort(compareTuples);
    for (const [from, command] of refusals) lines.push(`    ${from} --> ${from}: ❌${command}`);
    return `${lines.join('\n')}\n`;
  };

  return {
    case: (name, build) => addCase(name, undefined, [], build),
    get cases() {
      return [...cases];
    },
    async run() {
      for (const c of cases) await c.run();
    },
    mermaid,
    markdown(title) {
      return `${title ? `# ${title}\n\n` : ''}\`\`\`mermaid\n${mermaid()}\`\`\`\n`;
    },
  };
}

function checkError(expected: ErrorExpectation | undefined, error: unknown, where: string): void {
  if (expected === undefined) {
    assert.ok(
      error instanceof InvalidTransitionError,
      `${where}: expected InvalidTransitionError, got ${String(error)}`,
    );
    return;
  }
  if (isErrorClass(expected)) {
    assert.ok(error instanceof expected, `${where}: expected ${expected.name}, got ${String(error)}`);
    return;
  }
  expected(error);
}

function isErrorClass(value: ErrorExpectation): value is new (...args: never[]) => Error {
  return typeof value === 'function' && (value.prototype instanceof Error || value === Error);
}

function compareTuples(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
