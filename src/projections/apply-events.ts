import { InvalidInputError, StoreClosedError, StoreUnavailableError } from '../core/errors.js';
import type { Json, Position, RecordedEvent } from '../core/types.js';
import type { Projection, ProjectionContext } from './define-projection.js';
import type { DocumentBatch } from './document-batch.js';
import { type FailedEventRef, ProjectionHandlerError } from './projection-errors.js';

/** An event a handler failed on that was set aside (`onError: 'park'`). */
export interface ParkedEvent extends FailedEventRef {
  error: string;
  /** ISO time it was parked. */
  at: string;
}

/** Result of folding a batch. */
export interface ApplyOutcome<S> {
  state: S;
  /** Events consumed (applied or parked), a prefix of the batch. */
  consumed: number;
  /** Position of the last consumed event, if any. */
  position: Position | undefined;
  parked: ParkedEvent[];
  /** Set when a handler threw and the projection stops (`onError: 'stop'`): the event was not consumed. */
  failure?: ProjectionHandlerError;
}

/** The identifying fields of an event, for errors and parking. */
export function eventRef(event: RecordedEvent): FailedEventRef {
  return {
    streamId: event.streamId,
    version: event.version,
    position: event.position,
    type: event.type,
    id: event.id,
  };
}

type AnyHandler<S, D extends Json> = (s: S, e: RecordedEvent, c: ProjectionContext<D>) => unknown;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/**
 * Folds `events` (in the given order) into `state` and `docs`. A throwing handler's document
 * writes are undone; the event is then parked or ends the fold, never skipped silently.
 * Runs synchronously while handlers are synchronous (so it can run inside SQLite's synchronous
 * transactions); with `requireSync`, a handler returning a promise fails with `InvalidInputError`.
 */
export function applyEvents<S extends Json, D extends Json>(
  projection: Projection<S, D>,
  state: S,
  events: readonly RecordedEvent[],
  docs: DocumentBatch<D>,
  requireSync = false,
): ApplyOutcome<S> | Promise<ApplyOutcome<S>> {
  const handlers = projection.handlers as Record<string, AnyHandler<S, D> | undefined>;
  const ctx: ProjectionContext<D> = { projection: projection.name, docs };
  const outcome: ApplyOutcome<S> = { state, consumed: 0, position: undefined, parked: [] };

  const fail = (event: RecordedEvent, cause: unknown): boolean => {
    docs.rollback();
    // A backend failure inside a handler (e.g. `docs.get` on a dropped connection) is not the
    // handler's fault: rethrow it so the runner retries the batch from the unchanged checkpoint
    // instead of stopping the projection or parking (dropping) the event.
    if (cause instanceof StoreUnavailableError || cause instanceof StoreClosedError) throw cause;
    const error = new ProjectionHandlerError(projection.name, eventRef(event), { cause });
    if (projection.onError !== 'park') {
      outcome.failure = error;
      return true;
    }
    outcome.parked.push({ ...eventRef(event), error: error.message, at: new Date().toISOString() });
    return false;
  };
  const consume = (event: RecordedEvent, next: unknown) => {
    if (next !== undefined) outcome.state = next as S;
    outcome.consumed += 1;
    outcome.position = event.position;
  };

  // Continues from event `index` whose handler returned a promise.
  const continueAsync = async (index: number, pending: PromiseLike<unknown>): Promise<ApplyOutcome<S>> => {
    for (let i = index; i < events.length; i++) {
      const event = events[i]!;
      const handler = handlers[event.type];
      try {
        let next: unknown;
        if (i === index) next = await pending;
        else if (handler) {
          docs.begin();
          next = handler(outcome.state, event, ctx);
          if (isThenable(next)) next = await next;
        }
        consume(event, next);
      } catch (cause) {
        if (fail(event, cause)) return outcome;
        consume(event, undefined);
      }
    }
    return outcome;
  };

  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const handler = handlers[event.type];
    let next: unknown;
    if (handler) {
      docs.begin();
      try {
        next = handler(outcome.state, event, ctx);
      } catch (cause) {
        if (fail(event, cause)) return outcome;
        consume(event, undefined);
        continue;
      }
      if (isThenable(next)) {
        if (requireSync) {
          Promise.resolve(next).catch(() => {});
          docs.rollback();
          outcome.failure = new ProjectionHandlerError(projection.name, eventRef(event), {
            cause: new InvalidInputError(
              `projection.handlers.${event.type}`,
              'inline handlers must be synchronous on this store (use ctx.docs.getSync instead of await ctx.docs.get)',
            ),
          });
          return outcome;
        }
        return continueAsync(i, next);
      }
    }
    consume(event, next);
  }
  return outcome;
}
