import { InvalidInputError, isVersionConflict, OrdoError, VersionConflictError } from '../core/errors.js';
import { handleCommand } from '../core/handle-command.js';
import { retryOnConflict } from '../core/retry-on-conflict.js';
import type { EventStore, NewEvent, RecordedEvent } from '../core/types.js';

/** State of one show: its capacity and who holds which seat. */
export interface ShowState {
  seats: number;
  booked: Record<string, string>;
}

/** The one command of the demo. */
export interface BookSeat {
  customer: string;
}

/**
 * The seat-booking decider: a booking takes the lowest free seat, so concurrent clients collide
 * on purpose and optimistic concurrency (expected version) is what keeps a seat from being sold twice.
 */
export const seatBooking = {
  initialState: (): ShowState => ({ seats: 0, booked: {} }),
  evolve(state: ShowState, event: RecordedEvent): ShowState {
    const data = event.data as Record<string, unknown>;
    if (event.type === 'ShowScheduled') return { seats: Number(data.seats), booked: {} };
    if (event.type === 'SeatBooked')
      return { ...state, booked: { ...state.booked, [String(data.seat)]: String(data.customer) } };
    return state;
  },
  decide(command: BookSeat, state: ShowState): NewEvent[] {
    for (let seat = 1; seat <= state.seats; seat++) {
      if (!(String(seat) in state.booked))
        return [{ type: 'SeatBooked', data: { seat, customer: command.customer } }];
    }
    return []; // sold out
  },
};

/** Configuration of `runSeatBookingDemo`. */
export interface SeatBookingDemoConfig {
  /** Books through the store directly with `handleCommand`. */
  store?: EventStore;
  /** Or through a running server's HTTP API (`http://127.0.0.1:4700`), so its console and metrics see it. */
  url?: string;
  namespace?: string;
  token?: string;
  streamId: string;
  seats: number;
  clients: number;
  /** Random pause (0..paceMs) after each of a client's bookings, so clients take turns and people can watch (default 0). */
  paceMs?: number;
  /** Customer names are `<clientPrefix>-<n>` (default `client`). */
  clientPrefix?: string;
  /** Random think time (0..thinkMs) between reading the show and deciding, like a user picking a seat (default 3). */
  thinkMs?: number;
  log?: (line: string) => void;
}

/** What the demo verified. */
export interface SeatBookingSummary {
  streamId: string;
  seats: number;
  clients: number;
  bookings: number;
  conflictsRetried: number;
  distinctSeats: number;
  overbooked: boolean;
  perClient: Record<string, number>;
}

interface Backend {
  schedule(seats: number): Promise<void>;
  book(customer: string, onConflict: () => void): Promise<boolean>;
  history(): Promise<RecordedEvent[]>;
}

/**
 * Many concurrent clients book seats of one show until it is sold out; each booking is decided
 * on the version it read and retried on conflict. Afterwards the stream is read back: bookings
 * must equal seats, every seat booked once.
 */
export async function runSeatBookingDemo(config: SeatBookingDemoConfig): Promise<SeatBookingSummary> {
  const backend = config.url ? httpBackend(config) : storeBackend(config);
  const log = config.log ?? (() => {});
  try {
    await backend.schedule(config.seats);
    log(`show ${config.streamId}: ${config.seats} seats, ${config.clients} clients booking concurrently`);
  } catch (error) {
    // The show exists: join it (several demo processes may book the same show at once).
    if (!isVersionConflict(error)) throw error;
    const first = (await backend.history())[0];
    if (first?.type !== 'ShowScheduled' || (first.data as { seats?: unknown }).seats !== config.seats) {
      throw new InvalidInputError(
        'seats',
        `show ${JSON.stringify(config.streamId)} exists with a different number of seats`,
      );
    }
    log(`joining show ${config.streamId}: ${config.seats} seats, ${config.clients} more clients`);
  }
  let conflicts = 0;
  const perClient: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: config.clients }, async (_, i) => {
      const customer = `${config.clientPrefix ?? 'client'}-${i + 1}`;
      perClient[customer] = 0;
      for (;;) {
        const booked = await backend.book(customer, () => {
          conflicts += 1;
        });
        if (!booked) return;
        perClient[customer]! += 1;
        if (config.paceMs) await new Promise((r) => setTimeout(r, Math.random() * config.paceMs!));
      }
    }),
  );
  const history = await backend.history();
  const bookings = history.filter((e) => e.type === 'SeatBooked');
  const seats = new Set(bookings.map((e) => (e.data as { seat: number }).seat));
  const outOfRange = [...seats].some((s) => s < 1 || s > config.seats);
  return {
    streamId: config.streamId,
    seats: config.seats,
    clients: config.clients,
    bookings: bookings.length,
    conflictsRetried: conflicts,
    distinctSeats: seats.size,
    overbooked: bookings.length > config.seats || seats.size !== bookings.length || outOfRange,
    perClient,
  };
}

const RETRY = { maxAttempts: 100, backoff: { initialDelayMs: 1, maxDelayMs: 10 } };

/** The decider with a think time before deciding, so clients really interleave between read and write. */
function thinking(config: SeatBookingDemoConfig) {
  const thinkMs = config.thinkMs ?? 3;
  return {
    ...seatBooking,
    async decide(command: BookSeat, state: ShowState): Promise<NewEvent[]> {
      if (thinkMs > 0) await new Promise((r) => setTimeout(r, Math.random() * thinkMs));
      return seatBooking.decide(command, state);
    },
  };
}

function storeBackend(config: SeatBookingDemoConfig): Backend {
  const store = config.store;
  if (!store) throw new InvalidInputError('store', 'runSeatBookingDemo needs a store or a url');
  const decider = thinking(config);
  return {
    async schedule(seats) {
      await store.append(config.streamId, [{ type: 'ShowScheduled', data: { seats } }], {
        expectedVersion: 'no_stream',
      });
    },
    async book(customer, onConflict) {
      const result = await handleCommand(
        store,
        config.streamId,
        decider,
        { customer },
        { ...RETRY, onRetry: onConflict },
      );
      return result.events.length > 0;
    },
    history: () => store.readStream(config.streamId),
  };
}

function httpBackend(config: SeatBookingDemoConfig): Backend {
  const base = `${config.url!.replace(/\/$/, '')}/api/v1/ns/${encodeURIComponent(config.namespace ?? 'default')}`;
  const path = `${base}/stream?id=${encodeURIComponent(config.streamId)}`;
  const headers = (extra: Record<string, string> = {}) => ({
    'content-type': 'application/json',
    ...(config.token ? { authorization: `Bearer ${config.token}` } : {}),
    ...extra,
  });
  const call = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(url, { ...init, headers: headers(init.headers as Record<string, string>) });
    const body = (await res.json()) as Record<string, unknown> & { error?: Record<string, unknown> };
    return { status: res.status, body };
  };
  const decider = thinking(config);
  const history = async () => {
    const { status, body } = await call(path);
    if (status !== 200)
      throw new OrdoError(
        String(body.error?.code ?? 'HTTP_ERROR'),
        String(body.error?.message ?? `HTTP ${status}`),
      );
    return (body.events as RecordedEvent[]).map((e) => ({ ...e, timestamp: new Date(e.timestamp) }));
  };
  const append = async (events: NewEvent[], expectedVersion: number | 'no_stream', attempt: number) => {
    const { status, body } = await call(path, {
      method: 'POST',
      body: JSON.stringify({ events, expectedVersion }),
      headers: { 'ordo-attempt': String(attempt) },
    });
    if (status === 409 && body.error?.code === 'VERSION_CONFLICT') {
      throw new VersionConflictError(config.streamId, expectedVersion, Number(body.error.currentVersion));
    }
    if (status !== 201)
      throw new OrdoError(
        String(body.error?.code ?? 'HTTP_ERROR'),
        String(body.error?.message ?? `HTTP ${status}`),
      );
  };
  return {
    schedule: (seats) => append([{ type: 'ShowScheduled', data: { seats } }], 'no_stream', 1),
    async book(customer, onConflict) {
      return retryOnConflict(
        async (attempt) => {
          const events = await history();
          const state = events.reduce(seatBooking.evolve, seatBooking.initialState());
          const decided = await decider.decide({ customer }, state);
          if (decided.length === 0) return false;
          await append(decided, events.length, attempt);
          return true;
        },
        { ...RETRY, onRetry: onConflict },
      );
    },
    history,
  };
}
