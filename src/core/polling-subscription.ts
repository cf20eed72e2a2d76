import { AsyncLocalStorage } from 'node:async_hooks';
import { START } from './position.js';
import type { EventQuery, Position, RecordedEvent, Subscription, SubscriptionHandler } from './types.js';

/** Marks code running inside a subscription's handler, so `close()` called there does not deadlock. */
const insideHandler = new AsyncLocalStorage<object>();

export interface PollingSubscriptionConfig {
  after: Position;
  filter: EventQuery[] | undefined;
  batchSize: number;
  pollIntervalMs: number;
  /** Reads the next batch strictly after `after`, in global order. */
  read(after: Position, limit: number, filter: EventQuery[] | undefined): Promise<RecordedEvent[]>;
  /** Registers a wake-up for in-process appends; returns the unregister function. */
  onAppend(listener: () => void): () => void;
  handler: SubscriptionHandler;
  onError?: (error: Error) => void;
  onCaughtUp?: (position: Position) => void;
}

/**
 * Catch-up-then-live subscription over a pull API. Events are handed to the handler one at a
 * time in global order; the position only moves forward, so each event is delivered once.
 * Live mode waits for an in-process wake-up or the poll interval, whichever comes first,
 * so appends from other processes are seen within one poll interval.
 */
export function startPollingSubscription(config: PollingSubscriptionConfig): Subscription {
  const self = {};
  let position = config.after ?? START;
  let stopped = false;
  let wake: (() => void) | undefined;
  let pending = false; // an append happened while we were reading: read again before sleeping
  const unregister = config.onAppend(() => {
    pending = true;
    wake?.();
  });

  const sleep = () =>
    new Promise<void>((resolve) => {
      if (pending || stopped) return resolve();
      const timer = setTimeout(done, config.pollIntervalMs);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const loop = async () => {
    let caughtUp = false;
    while (!stopped) {
      pending = false;
      const batch = await config.read(position, config.batchSize, config.filter);
      for (const event of batch) {
        if (stopped) return;
        await insideHandler.run(self, () => config.handler(event));
        position = event.position;
      }
      if (batch.length < config.batchSize) {
        if (!caughtUp) {
          caughtUp = true;
          config.onCaughtUp?.(position);
        }
        await sleep();
      }
    }
  };

  const closed = loop().then(
    () => {
      unregister();
    },
    (error: unknown) => {
      unregister();
      stopped = true;
      const err = error instanceof Error ? error : new Error(String(error));
      config.onError?.(err);
      throw err;
    },
  );
  // A subscription whose error is reported via onError must not also crash the process.
  if (config.onError) closed.catch(() => {});

  return {
    get position() {
      return position;
    },
    closed,
    /** Called from the subscription's own handler, it does not wait (that would wait for itself). */
    async close() {
      stopped = true;
      wake?.();
      if (insideHandler.getStore() === self) return;
      await closed.catch(() => {});
    },
  };
}
