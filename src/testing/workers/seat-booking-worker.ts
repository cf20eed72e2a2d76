/**
 * Worker of `runSeatBookingRace`: books seats on one stream through `handleCommand` until its
 * attempts are used up, then prints one JSON line with its counts.
 * argv: url namespace streamId attempts seats workerIndex
 */

import { isConflict } from '../../core/errors.js';
import { handleCommand } from '../../core/handle-command.js';
import type { RecordedEvent } from '../../core/types.js';
import { openStore } from '../../open-store.js';

const [url, namespace, streamId, attemptsArg, seatsArg, workerArg] = process.argv.slice(2);
const attempts = Number(attemptsArg);
const seats = Number(seatsArg);
const worker = Number(workerArg);

interface Hall {
  booked: Set<number>;
}

const definition = {
  initialState: (): Hall => ({ booked: new Set() }),
  evolve: (state: Hall, event: RecordedEvent): Hall => {
    if (event.type === 'SeatBooked') state.booked.add((event.data as { seat: number }).seat);
    return state;
  },
  decide: (_command: null, state: Hall) => {
    const free: number[] = [];
    for (let seat = 1; seat <= seats; seat++) if (!state.booked.has(seat)) free.push(seat);
    if (free.length === 0) return [];
    // A random free seat, so that competing workers often want the same history slot.
    const seat = free[Math.floor(Math.random() * free.length)]!;
    return [{ type: 'SeatBooked', data: { seat, worker } }];
  },
};

const store = await openStore(url!, { namespace: namespace! });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));

const counts = { worker, booked: 0, soldOut: 0, gaveUp: 0, retries: 0, seats: [] as number[] };
for (let attempt = 0; attempt < attempts; attempt++) {
  try {
    const result = await handleCommand(store, streamId!, definition, null, {
      maxAttempts: 100,
      backoff: { initialDelayMs: 1, maxDelayMs: 50 },
      onRetry: () => {
        counts.retries++;
      },
    });
    if (result.result) {
      counts.booked++;
      counts.seats.push((result.events[0]!.data as { seat: number }).seat);
    } else counts.soldOut++;
  } catch (error) {
    if (!isConflict(error)) throw error;
    counts.gaveUp++;
  }
}
await store.close();
process.stdout.write(`${JSON.stringify(counts)}\n`);
process.stdin.destroy();
