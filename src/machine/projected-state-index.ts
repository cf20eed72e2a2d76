import { InvalidInputError } from '../core/errors.js';
import type { Json } from '../core/types.js';
import { defineProjection, type Projection } from '../projections/define-projection.js';
import type { ProjectionRegistry } from '../projections/projection-registry.js';
import { decodeTransition, MACHINE_TRANSITION_EVENT, machineTag } from './machine-event.js';
import type { Tagged } from './match.js';
import { queryEntries, type StateIndex, type StateIndexEntry } from './state-index.js';

/** The document the state index projection keeps per machine id. */
export interface StateIndexDocument {
  [key: string]: Json;
  streamId: string;
  state: Json;
  version: number;
  position: string;
  updatedAt: string;
}

/** Options of {@link defineStateIndexProjection}. */
export interface StateIndexProjectionOptions {
  /** Projection name (default `<machine>.state-index`). */
  name?: string;
  /** Bump to rebuild the read model (default 1). */
  version?: number;
}

/**
 * The state index as a projection for a `ProjectionRegistry`: one document per machine id with
 * its latest state and stream version. The registry gives it what every async projection has:
 * a checkpoint stored with the documents in the store's own database, one active runner across
 * processes (lease), status and blue/green rebuilds. A document only moves to a higher version,
 * so at-least-once redelivery never regresses it.
 */
export function defineStateIndexProjection(
  machine: { readonly name: string },
  options: StateIndexProjectionOptions = {},
): Projection<null, StateIndexDocument> {
  return defineProjection<null, StateIndexDocument>({
    name: options.name ?? `${machine.name}.state-index`,
    version: options.version ?? 1,
    query: { types: [MACHINE_TRANSITION_EVENT], tags: [machineTag(machine.name)] },
    handlers: {
      [MACHINE_TRANSITION_EVENT]: async (_state, event, ctx) => {
        const data = decodeTransition(event);
        const current = await ctx.docs.get(data.id);
        if (current && current.version >= event.version) return undefined;
        ctx.docs.put(data.id, {
          streamId: event.streamId,
          state: data.state as unknown as Json,
          version: event.version,
          position: event.position,
          updatedAt: event.timestamp.toISOString(),
        });
        return undefined;
      },
    },
  });
}

/** Constructor options of {@link createProjectedStateIndex}. */
export interface ProjectedStateIndexConfig<State extends Tagged> {
  /** A registry that has the projection from {@link defineStateIndexProjection} registered. */
  registry: ProjectionRegistry;
  /** The machine (types the index) or its name. */
  machine: { readonly name: string; initialState?: () => State } | string;
  /** Projection name when not the default `<machine>.state-index`. */
  projection?: string;
  /** How long `refresh()` waits for the projection to catch up (default 30,000 ms). */
  refreshTimeoutMs?: number;
}

/**
 * A {@link StateIndex} over the documents of the state index projection. `start()` starts the
 * registry (idempotent); `refresh()` waits until the projection has applied every event that was
 * visible when called. `find` reads the documents in pages and filters them in this process, so
 * its cost grows with the number of machines of this kind.
 */
export function createProjectedStateIndex<State extends Tagged>(
  config: ProjectedStateIndexConfig<State>,
): StateIndex<State> {
  if (typeof config !== 'object' || config === null || !config.registry) {
    throw new InvalidInputError('config', 'needs registry and machine');
  }
  const machineName = typeof config.machine === 'string' ? config.machine : config.machine?.name;
  if (typeof machineName !== 'string' || machineName.length === 0)
    throw new InvalidInputError('machine', 'needs a machine or its name');
  const { registry } = config;
  const name = config.projection ?? `${machineName}.state-index`;
  if (!registry.list().some((p) => p.name === name)) {
    throw new InvalidInputError(
      'projection',
      `projection ${name} is not registered; add defineStateIndexProjection(machine)`,
    );
  }
  const documents = registry.documents<StateIndexDocument>(name);
  const toEntry = (id: string, doc: StateIndexDocument): StateIndexEntry<State> => ({
    id,
    streamId: doc.streamId,
    state: doc.state as unknown as State,
    version: doc.version,
    position: doc.position,
    updatedAt: new Date(doc.updatedAt),
  });
  const all = async (): Promise<StateIndexEntry<State>[]> => {
    const entries: StateIndexEntry<State>[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await documents.find({ limit: 1000, ...(after === undefined ? {} : { after }) });
      for (const { id, doc } of page) entries.push(toEntry(id, doc));
      if (page.length < 1000) return entries;
      after = page[page.length - 1]!.id;
    }
  };
  const refresh = () => registry.waitForCatchUp({ name, timeoutMs: config.refreshTimeoutMs ?? 30_000 });
  return {
    async start() {
      await registry.start();
      await refresh();
    },
    refresh,
    find: (async (query?: Parameters<typeof queryEntries>[1]) => {
      // Validate before reading anything, so a bad query fails fast and cheaply.
      queryEntries([], query);
      return queryEntries(await all(), query);
    }) as StateIndex<State>['find'],
    async get(id) {
      const doc = await documents.get(id);
      return doc === undefined ? undefined : toEntry(id, doc);
    },
    async close() {
      // The registry belongs to the caller, who stops it.
    },
  };
}
