import { InvalidInputError } from './errors.js';
import { type RetryOnConflictOptions, retryOnConflict } from './retry-on-conflict.js';
import type { AppendResult, EventStore, Json, NewEvent, RecordedEvent } from './types.js';

/** A decider: pure functions from history to state and from (command, state) to new events. */
export interface CommandHandlerDefinition<State, Command> {
  initialState: () => State;
  evolve: (state: State, event: RecordedEvent) => State;
  decide: (command: Command, state: State) => NewEvent[] | Promise<NewEvent[]>;
}

export interface HandleCommandOptions extends RetryOnConflictOptions {
  /**
   * Use the stream's snapshot when its schema matches; save a new one every `every` events.
   * State must be JSON for snapshots.
   */
  snapshot?: { schema?: string; every?: number };
}

export interface HandleCommandResult<State> {
  /** State after the new events (or the loaded state when the decision produced none). */
  state: State;
  events: NewEvent[];
  /** Undefined when the decision produced no events (nothing was appended). */
  result: AppendResult | undefined;
  attempts: number;
}

/**
 * Loads the stream (snapshot + newer events), decides, and appends with the loaded version as
 * expected version. On a conflict it reloads and decides again (see `retryOnConflict`), so a
 * decision is only ever written against the exact history it was taken on.
 */
export async function handleCommand<State, Command>(
  store: EventStore,
  streamId: string,
  definition: CommandHandlerDefinition<State, Command>,
  command: Command,
  options: HandleCommandOptions = {},
): Promise<HandleCommandResult<State>> {
  if (typeof definition?.decide !== 'function' || typeof definition.evolve !== 'function') {
    throw new InvalidInputError('definition', 'needs initialState, evolve and decide functions');
  }
  let attempts = 0;
  return retryOnConflict(async () => {
    attempts += 1;
    const { state, version } = await loadState(
      store,
      streamId,
      definition,
      // Snapshots saved without a schema are stored with the empty schema.
      options.snapshot ? (options.snapshot.schema ?? '') : undefined,
    );
    const events = await definition.decide(command, state);
    if (events.length === 0) return { state, events, result: undefined, attempts };
    const result = await store.append(streamId, events, { expectedVersion: version });
    const newState = (
      await store.readStream(streamId, { fromVersion: version + 1, toVersion: result.lastVersion })
    ).reduce(definition.evolve, state);
    const every = options.snapshot?.every;
    if (every && Math.floor(result.lastVersion / every) > Math.floor(version / every)) {
      await store.saveSnapshot(streamId, {
        version: result.lastVersion,
        state: newState as Json,
        ...(options.snapshot?.schema ? { schema: options.snapshot.schema } : {}),
      });
    }
    return { state: newState, events, result, attempts };
  }, options);
}

/** Folds a stream into state, starting from its snapshot when one with the wanted schema exists. */
export async function loadState<State>(
  store: EventStore,
  streamId: string,
  definition: Pick<CommandHandlerDefinition<State, unknown>, 'initialState' | 'evolve'>,
  schema?: string,
): Promise<{ state: State; version: number }> {
  let state = definition.initialState();
  let version = 0;
  if (schema !== undefined) {
    const snapshot = await store.loadSnapshot(streamId);
    if (snapshot && snapshot.schema === schema) {
      state = snapshot.state as State;
      version = snapshot.version;
    }
  }
  const events = await store.readStream(streamId, { fromVersion: version + 1 });
  for (const event of events) state = definition.evolve(state, event);
  return { state, version: events.length > 0 ? events[events.length - 1]!.version : version };
}
