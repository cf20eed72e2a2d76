import { InvalidInputError, OrdoError } from '../core/errors.js';
import { InvalidTransitionError } from './invalid-transition-error.js';
import type { Tagged } from './match.js';

/** What a transition receives besides deps, command and state. */
export interface TransitionContext<Command extends Tagged, State extends Tagged> {
  /** Name of the machine. */
  readonly machine: string;
  /** Id of the persisted machine when run through a repository, otherwise undefined. */
  readonly id: string | undefined;
  /** Aborted when the caller gave up; long transitions (service calls) should honour it. */
  readonly signal: AbortSignal | undefined;
  /** Refuses the command: throws {@link InvalidTransitionError} with the command and state types. */
  invalid(reason?: string): never;
  /**
   * Runs the transition again for `command` in `state` (same deps and context): how a retry
   * command replays the failed command an error state kept.
   */
  replay(command: Command, state: State): Promise<State>;
}

/** `(ctx, deps, command, state) => newState`: pure apart from what `deps` provides. */
export type Transition<Deps, Command extends Tagged, State extends Tagged> = (
  ctx: TransitionContext<Command, State>,
  deps: Deps,
  command: Command,
  state: State,
) => State | Promise<State>;

/** Definition of a machine: its initial state and its transition function. */
export interface MachineDefinition<Deps, Command extends Tagged, State extends Tagged> {
  /** Names the machine's streams and index (default `machine`); letters, digits, `-`, `_`, `.`. */
  name?: string;
  /** State of a machine that has handled no command yet (a value or a factory). */
  initial: State | (() => State);
  transition: Transition<Deps, Command, State>;
}

/** Options of one `handle` call. */
export interface HandleOptions {
  signal?: AbortSignal;
  /** Id of the persisted machine, passed to the transition as `ctx.id`. */
  id?: string;
}

/**
 * One machine instance: holds the current state for the duration of one request. Not shared
 * between concurrent requests: a second `handle` while one is running throws `MACHINE_BUSY`.
 */
export interface MachineInstance<Command extends Tagged, State extends Tagged> {
  readonly state: State;
  /**
   * Applies the command and returns the new state (also held as `state`). On refusal throws
   * {@link InvalidTransitionError} and keeps the previous state.
   */
  handle(command: Command, options?: HandleOptions): Promise<State>;
}

/** A defined machine: a factory of per-request instances. Immutable and safe to share. */
export interface Machine<Deps, Command extends Tagged, State extends Tagged> {
  readonly name: string;
  /** A fresh copy of the initial state. */
  initialState(): State;
  /** A new instance with `deps` injected, starting at `state` (default: the initial state). */
  create(deps: Deps, state?: State): MachineInstance<Command, State>;
  readonly transition: Transition<Deps, Command, State>;
}

const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;

/**
 * Defines a typed state machine over discriminated unions (`type` field) of commands and states.
 * Transitions run one at a time per instance; create one instance per request.
 */
export function defineMachine<Deps, Command extends Tagged, State extends Tagged>(
  definition: MachineDefinition<Deps, Command, State>,
): Machine<Deps, Command, State> {
  if (typeof definition !== 'object' || definition === null || typeof definition.transition !== 'function') {
    throw new InvalidInputError('definition', 'needs an initial state and a transition function');
  }
  const name = definition.name ?? 'machine';
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new InvalidInputError('name', 'must match [A-Za-z0-9_.-]{1,100}');
  }
  const { initial, transition } = definition;
  const initialState = (): State => {
    // A factory gives fresh objects; a value is cloned so instances never share mutable state.
    const state = typeof initial === 'function' ? (initial as () => State)() : structuredClone(initial);
    assertState(state, 'initial');
    return state;
  };
  initialState();
  return {
    name,
    initialState,
    transition,
    create(deps, state) {
      if (state !== undefined) assertState(state, 'state');
      return new Instance(name, transition, deps, state ?? initialState());
    },
  };
}

function assertState(state: unknown, field: string): asserts state is Tagged {
  if (typeof state !== 'object' || state === null || typeof (state as Tagged).type !== 'string') {
    throw new InvalidInputError(field, 'a state must be an object with a string `type`');
  }
}

class Instance<Deps, Command extends Tagged, State extends Tagged>
  implements MachineInstance<Command, State>
{
  #state: State;
  #busy = false;
  readonly #name: string;
  readonly #transition: Transition<Deps, Command, State>;
  readonly #deps: Deps;

  constructor(name: string, transition: Transition<Deps, Command, State>, deps: Deps, state: State) {
    this.#name = name;
    this.#transition = transition;
    this.#deps = deps;
    this.#state = state;
  }

  get state(): State {
    return this.#state;
  }

  async handle(command: Command, options: HandleOptions = {}): Promise<State> {
    if (
      typeof command !== 'object' ||
      command === null ||
      typeof command.type !== 'string' ||
      command.type === ''
    ) {
      throw new InvalidInputError('command', 'must be an object with a non-empty string `type`');
    }
    if (this.#busy) {
      throw new OrdoError(
        'MACHINE_BUSY',
        'a machine instance handles one command at a time; create one per request',
      );
    }
    this.#busy = true;
    try {
      const next = await this.#run(command, this.#state, options);
      this.#state = next;
      return next;
    } finally {
      this.#busy = false;
    }
  }

  async #run(command: Command, state: State, options: HandleOptions): Promise<State> {
    options.signal?.throwIfAborted();
    const ctx: TransitionContext<Command, State> = {
      machine: this.#name,
      id: options.id,
      signal: options.signal,
      invalid: (reason) => {
        throw new InvalidTransitionError(this.#name, command.type, state.type, reason);
      },
      replay: (replayed, from) => this.#run(replayed, from, options),
    };
    const next = await this.#transition(ctx, this.#deps, command, state);
    if (typeof next !== 'object' || next === null || typeof (next as Tagged).type !== 'string') {
      throw new InvalidTransitionError(
        this.#name,
        command.type,
        state.type,
        'the transition returned no state',
      );
    }
    return next;
  }
}
