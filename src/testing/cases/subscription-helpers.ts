import type {
  EventStore,
  Position,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../../core/types.js';
import { waitUntil } from '../conformance-context.js';

/** A subscription that records what it receives, for assertions. */
export interface RecordingSubscription {
  readonly events: RecordedEvent[];
  readonly caughtUp: Position[];
  readonly errors: Error[];
  readonly subscription: Subscription;
  /** Waits (bounded) until at least `count` events arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
}

/** Subscribes and records every delivery; `onEvent` may throw to test error reporting. */
export function record(
  store: EventStore,
  options: Omit<SubscribeOptions, 'onError' | 'onCaughtUp'> = {},
  onEvent?: (event: RecordedEvent) => void | Promise<void>,
): RecordingSubscription {
  const events: RecordedEvent[] = [];
  const caughtUp: Position[] = [];
  const errors: Error[] = [];
  const subscription = store.subscribe(
    { ...options, onError: (error) => errors.push(error), onCaughtUp: (position) => caughtUp.push(position) },
    async (event) => {
      events.push(event);
      await onEvent?.(event);
    },
  );
  return {
    events,
    caughtUp,
    errors,
    subscription,
    waitFor: (count, timeoutMs) =>
      waitUntil(
        () => {
          if (errors.length > 0)
            throw new Error(`subscription failed: ${errors[0]!.message}`, { cause: errors[0] });
          return events.length >= count;
        },
        `${count} events (got ${events.length})`,
        timeoutMs,
      ),
  };
}
