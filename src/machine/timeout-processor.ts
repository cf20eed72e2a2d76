import { InvalidInputError, isConflict } from '../core/errors.js';
import { isInvalidTransition } from './invalid-transition-error.js';
import type { MachineRepository } from './machine-repository.js';
import type { Tagged, Variant } from './match.js';
import type { ComparableKeys } from './state-filter.js';
import type { StateIndex, StateIndexEntry } from './state-index.js';
import { createStoreLease, type StoreLease } from './store-lease.js';

/**
 * A timeout: machines in state `state` whose deadline `field` (an ISO-8601 UTC string or epoch
 * milliseconds) is at or before now receive `command(state)`.
 */
export type TimeoutRule<State extends Tagged, Command extends Tagged> = {
  [K in State['type']]: {
    state: K;
    field: ComparableKeys<Variant<State, K>>;
    command: (state: Variant<State, K>) => NoInfer<Command>;
  };
}[State['type']];

/** Constructor options of {@link createTimeoutProcessor}. */
export interface TimeoutProcessorConfig<Deps, Command extends Tagged, State extends Tagged> {
  repository: MachineRepository<Deps, Command, State>;
  index: StateIndex<State>;
  timeouts: TimeoutRule<State, Command>[];
  /**
   * Lease that makes one processor active at a time (default: a store lease named
   * `<machine>.timeouts`, 10 s ttl). `false` runs without one: still exactly once, only busier.
   */
  lease?: StoreLease | { name?: string; ttlMs?: number; owner?: string } | false;
  /** Clock (default `() => new Date()`). */
  now?: () => Date;
  /** Pause between ticks of `start()` (default 1000 ms). */
  intervalMs?: number;
  /** Most timeouts fired per tick (default 1000). */
  maxPerTick?: number;
  /** Called for every error of a tick that is not a lost race (those are counted as skipped). */
  onError?: (error: unknown, entry?: StateIndexEntry<State>) => void;
}

/** Outcome of one tick. */
export interface TimeoutTickResult {
  /** Whether this processor held the lease (always true without a lease). */
  held: boolean;
  /** Timeouts this processor fired (their transition was appended by it). */
  fired: number;
  /** Due machines that moved on before this processor could fire (fired by another, or changed). */
  skipped: number;
  /** Timeouts whose command failed for another reason (also reported to `onError`). */
  failed: number;
}

/**
 * Fires due timeouts. Each firing appends the timeout command's transition at the exact version
 * the index showed, so a timeout fires exactly once however many processors run: a second
 * processor's append conflicts and is counted as skipped. The lease only keeps the others idle.
 */
export interface TimeoutProcessor {
  /** One pass: (re)acquire the lease, refresh the index, fire what is due. */
  tick(): Promise<TimeoutTickResult>;
  /** Ticks every `intervalMs` until `stop()`. */
  start(): void;
  /** Stops ticking, waits for a running tick and releases the lease. */
  stop(): Promise<void>;
}

/**
 * Creates a {@link TimeoutProcessor}. Command and state types come from the repository (`const`
 * keeps a rule's command literal, so `() => ({ type: 'Expire' })` is checked against the union).
 */
export function createTimeoutProcessor<Deps, const Command extends Tagged, State extends Tagged>(
  config: TimeoutProcessorConfig<Deps, Command, State>,
): TimeoutProcessor {
  const { repository, index } = config;
  if (!repository || !index) throw new InvalidInputError('config', 'needs repository and index');
  if (!Array.isArray(config.timeouts) || config.timeouts.length === 0) {
    throw new InvalidInputError('timeouts', 'needs at least one timeout rule');
  }
  for (const [i, rule] of config.timeouts.entries()) {
    if (
      typeof rule?.state !== 'string' ||
      typeof rule.field !== 'string' ||
      typeof rule.command !== 'function'
    ) {
      throw new InvalidInputError(`timeouts[${i}]`, 'needs state, field and command');
    }
  }
  const now = config.now ?? (() => new Date());
  const intervalMs = config.intervalMs ?? 1_000;
  const maxPerTick = config.maxPerTick ?? 1_000;
  const lease: StoreLease | undefined =
    config.lease === false
      ? undefined
      : config.lease && 'acquire' in config.lease
        ? config.lease
        : createStoreLease({
            store: repository.store,
            name: config.lease?.name ?? `${repository.machine.name}.timeouts`,
            ...(config.lease?.ttlMs === undefined ? {} : { ttlMs: config.lease.ttlMs }),
            ...(config.lease?.owner === undefined ? {} : { owner: config.lease.owner }),
          });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;

  const due = async (at: Date): Promise<{ entry: StateIndexEntry<State>; command: Command }[]> => {
    const found: { entry: StateIndexEntry<State>; command: Command }[] = [];
    for (const rule of config.timeouts) {
      // Deadlines may be ISO strings or epoch ms; ordering operators only match their own type.
      for (const limit of [at.toISOString(), at.getTime()]) {
        let after: string | null | undefined;
        do {
          const page = await (index as StateIndex<Tagged>).find({
            state: rule.state,
            where: { [rule.field]: { lte: limit } },
            orderBy: rule.field,
            limit: Math.min(500, maxPerTick),
            ...(after ? { after } : {}),
          } as never);
          for (const entry of page.items) {
            found.push({
              entry: entry as StateIndexEntry<State>,
              command: (rule.command as (s: Tagged) => Command)(entry.state),
            });
          }
          after = page.next;
        } while (after && found.length < maxPerTick);
      }
    }
    return found.slice(0, maxPerTick);
  };

  const tick = async (): Promise<TimeoutTickResult> => {
    const result: TimeoutTickResult = { held: true, fired: 0, skipped: 0, failed: 0 };
    if (lease && !(await lease.acquire())) return { ...result, held: false };
    await index.refresh();
    for (const { entry, command } of await due(now())) {
      // A processor that lost its lease stops; whoever holds it now continues.
      if (lease && !lease.isHeld()) break;
      try {
        await repository.handle(entry.id, command, { expectedVersion: entry.version });
        result.fired += 1;
      } catch (error) {
        if (isConflict(error) || isInvalidTransition(error)) {
          result.skipped += 1;
        } else {
          result.failed += 1;
          config.onError?.(error, entry);
        }
      }
    }
    return result;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((error: unknown) => config.onError?.(error))
        .finally(schedule);
    }, intervalMs);
  };

  return {
    tick: () => {
      const run = tick();
      running = run.catch(() => undefined);
      return run;
    },
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => undefined);
      await lease?.release();
    },
  };
}
