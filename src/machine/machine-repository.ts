import { InvalidInputError, VersionConflictError } from '../core/errors.js';
import { type RetryOnConflictOptions, retryOnConflict } from '../core/retry-on-conflict.js';
import type { EventStore, Json, Position, RecordedEvent } from '../core/types.js';
import type { Machine } from './define-machine.js';
import { decodeTransition, transitionEvent } from './machine-event.js';
import type { Tagged } from './match.js';

/** Constructor options of {@link createMachineRepository}. */
export interface MachineRepositoryConfig<Deps, Command extends Tagged, State extends Tagged> {
  store: EventStore;
  machine: Machine<Deps, Command, State>;
  /** Injected into every transition (clock, services). */
  deps: Deps;
  /** Prefix of the machines' stream ids (default `<machine name>-`). */
  streamPrefix?: string;
  /** Default conflict retry policy of `handle` (default: 10 attempts, exponential backoff with jitter). */
  retry?: RetryOnConflictOptions;
}

/** Options of one {@link MachineRepository.handle} call. */
export interface MachineHandleOptions {
  /**
   * Decide only on this exact stream version and do not retry: a conflict throws
   * `VersionConflictError`. Used to act on what a reader saw (e.g. a timeout found in the index).
   */
  expectedVersion?: number;
  /** Overrides the repository's retry policy for this call. */
  retry?: RetryOnConflictOptions;
  /**
   * Id of the stored event. Re-sending a command with the id of the stream's last event returns
   * that event's outcome instead of deciding again, so a retry after a lost reply is idempotent.
   */
  eventId?: string;
  metadata?: Record<string, Json>;
  signal?: AbortSignal;
}

/** A machine's current state as stored. */
export interface LoadedMachine<State> {
  id: string;
  state: State;
  /** Stream version the state was read at (0: no command handled yet, state is the initial one). */
  version: number;
}

/** Outcome of an accepted command. */
export interface MachineHandleResult<State> {
  id: string;
  state: State;
  previousState: State;
  /** Stream version of the new transition event. */
  version: number;
  position: Position;
  /** How many times the command was decided (more than 1 after conflicts). */
  attempts: number;
}

/** One accepted transition, as read back from the machine's stream. */
export interface MachineTransitionRecord<Command, State> {
  version: number;
  position: Position;
  timestamp: Date;
  command: Command;
  from: State;
  to: State;
  eventId: string;
  metadata: Record<string, Json>;
}

/**
 * Persists machines through the event store: one stream per machine id, one event per accepted
 * transition holding the command and the new state, so the last event is the current state.
 */
export interface MachineRepository<Deps, Command extends Tagged, State extends Tagged> {
  readonly machine: Machine<Deps, Command, State>;
  readonly store: EventStore;
  /** Stream id of machine `id`. */
  streamId(id: string): string;
  /** Current state: one backwards read of the last event, independent of the history's length. */
  load(id: string): Promise<LoadedMachine<State>>;
  /**
   * Loads, runs the command on a fresh instance and appends the transition at the loaded version.
   * On a version conflict it reloads and decides again (unless `expectedVersion` is given), so a
   * transition is only ever written against the exact state it was decided on. A refused command
   * throws `InvalidTransitionError` and writes nothing.
   */
  handle(id: string, command: Command, options?: MachineHandleOptions): Promise<MachineHandleResult<State>>;
  /** Every accepted transition of machine `id`, oldest first. */
  history(id: string): Promise<MachineTransitionRecord<Command, State>[]>;
}

/** Creates a {@link MachineRepository} over any event store backend. */
export function createMachineRepository<Deps, Command extends Tagged, State extends Tagged>(
  config: MachineRepositoryConfig<Deps, Command, State>,
): MachineRepository<Deps, Command, State> {
  if (typeof config !== 'object' || config === null || !config.store || !config.machine) {
    throw new InvalidInputError('config', 'needs store, machine and deps');
  }
  const { store, machine, deps } = config;
  const prefix = config.streamPrefix ?? `${machine.name}-`;
  if (typeof prefix !== 'string') throw new InvalidInputError('streamPrefix', 'must be a string');

  const streamId = (id: string): string => {
    if (typeof id !== 'string' || id.length === 0)
      throw new InvalidInputError('id', 'must be a non-empty string');
    return prefix + id;
  };

  const loadLast = async (id: string): Promise<LoadedMachine<State> & { last?: RecordedEvent }> => {
    const [last] = await store.readStream(streamId(id), { direction: 'backwards', limit: 1 });
    if (!last) return { id, state: machine.initialState(), version: 0 };
    return { id, state: decodeTransition<Command, State>(last).state, version: last.version, last };
  };

  const load = async (id: string): Promise<LoadedMachine<State>> => {
    const { last: _, ...loaded } = await loadLast(id);
    return loaded;
  };

  /** The outcome an earlier append of event `eventId` at `version` recorded (for idempotent re-sends). */
  const original = async (
    id: string,
    version: number,
  ): Promise<Omit<MachineHandleResult<State>, 'attempts'>> => {
    const events = await store.readStream(streamId(id), {
      fromVersion: Math.max(1, version - 1),
      toVersion: version,
    });
    const event = events[events.length - 1]!;
    const previous =
      events.length > 1 ? decodeTransition<Command, State>(events[0]!).state : machine.initialState();
    return {
      id,
      state: decodeTransition<Command, State>(event).state,
      previousState: previous,
      version,
      position: event.position,
    };
  };

  const attempt = async (
    id: string,
    command: Command,
    options: MachineHandleOptions,
    expectedVersion?: number,
  ): Promise<Omit<MachineHandleResult<State>, 'attempts'>> => {
    const loaded = await loadLast(id);
    // Re-sent command whose append already happened (e.g. the reply was lost): same outcome again.
    if (options.eventId !== undefined && loaded.last?.id === options.eventId)
      return original(id, loaded.version);
    if (expectedVersion !== undefined && loaded.version !== expectedVersion) {
      // Fail before deciding: the caller's view is stale. The append below would refuse too.
      throw new VersionConflictError(streamId(id), expectedVersion, loaded.version);
    }
    const instance = machine.create(deps, loaded.state);
    const state = await instance.handle(command, {
      id,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const event = transitionEvent<Command, State>(
      { machine: machine.name, id, command, from: loaded.state.type, state },
      {
        ...(options.eventId === undefined ? {} : { eventId: options.eventId }),
        ...(options.metadata ? { metadata: options.metadata } : {}),
      },
    );
    const result = await store.append(streamId(id), [event], { expectedVersion: loaded.version });
    // The store recognised the event id as already stored: report what was stored, not this decision.
    if (result.lastVersion <= loaded.version) return original(id, result.lastVersion);
    return { id, state, previousState: loaded.state, version: result.lastVersion, position: result.position };
  };

  return {
    machine,
    store,
    streamId,
    load,
    async handle(id, command, options = {}) {
      streamId(id);
      if (options.expectedVersion !== undefined) {
        const v = options.expectedVersion;
        if (!Number.isSafeInteger(v) || v < 0)
          throw new InvalidInputError('expectedVersion', 'must be a non-negative integer');
        return { ...(await attempt(id, command, options, v)), attempts: 1 };
      }
      let attempts = 0;
      const result = await retryOnConflict(
        () => {
          attempts += 1;
          return attempt(id, command, options);
        },
        { ...config.retry, ...options.retry, ...(options.signal ? { signal: options.signal } : {}) },
      );
      return { ...result, attempts };
    },
    async history(id) {
      const events = await store.readStream(streamId(id));
      let from = machine.initialState();
      return events.map((event) => {
        const data = decodeTransition<Command, State>(event);
        const record: MachineTransitionRecord<Command, State> = {
          version: event.version,
          position: event.position,
          timestamp: event.timestamp,
          command: data.command,
          from,
          to: data.state,
          eventId: event.id,
          metadata: event.metadata,
        };
        from = data.state;
        return record;
      });
    },
  };
}
