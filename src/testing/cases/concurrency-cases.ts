import { expect } from 'vitest';
import { handleCommand } from '../../core/handle-command.js';
import type { NewEvent, RecordedEvent } from '../../core/types.js';
import { type ConformanceContext, randomStreamId } from '../conformance-context.js';

interface Hall {
  booked: Set<number>;
}

/** A hall of `seats` seats; each command books the lowest free seat its decision sees. */
function hall(seats: number) {
  return {
    initialState: (): Hall => ({ booked: new Set() }),
    evolve: (state: Hall, event: RecordedEvent): Hall => {
      state.booked.add((event.data as { seat: number }).seat);
      return state;
    },
    decide: (by: number, state: Hall): NewEvent[] => {
      for (let seat = 1; seat <= seats; seat++) {
        if (!state.booked.has(seat)) return [{ type: 'SeatBooked', data: { seat, by } }];
      }
      return [];
    },
  };
}

/** In-process contention through `handleCommand` (the multi-process variant is in multi-process). */
export function concurrencyCases(ctx: ConformanceContext): void {
  ctx.test('concurrent handleCommand calls book every seat exactly once', async () => {
    const store = ctx.fresh();
    const streamId = randomStreamId('hall');
    const seats = Math.max(10, Math.round(30 * ctx.scale));
    const clients = 5;
    const definition = hall(seats);
    const booked = await Promise.all(
      Array.from({ length: clients }, async (_, by) => {
        let mine = 0;
        for (;;) {
          const result = await handleCommand(store, streamId, definition, by, {
            maxAttempts: 1_000,
            backoff: { initialDelayMs: 1, maxDelayMs: 20 },
          });
          if (!result.result) return mine;
          mine++;
        }
      }),
    );
    expect(booked.reduce((a, b) => a + b, 0)).toBe(seats);
    const events = await store.readStream(streamId);
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: seats }, (_, i) => i + 1));
    expect(events.map((e) => (e.data as { seat: number }).seat)).toEqual(
      Array.from({ length: seats }, (_, i) => i + 1),
    );
  });
}
