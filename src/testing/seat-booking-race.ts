import { randomUUID } from 'node:crypto';
import { openStore } from '../open-store.js';
import { spawnTestWorker } from './spawn-test-worker.js';

/** How `runSeatBookingRace` contends. */
export interface SeatBookingRaceConfig {
  /** A store URL every worker process opens (`sqlite:<file>`, `postgres://…`, `nats://…`). */
  url: string;
  /** Number of OS processes racing (each its own connection). */
  processes: number;
  /** `handleCommand` calls per process; each books one seat or finds the hall sold out. */
  attempts: number;
  seats: number;
  /** Namespace to race in (default: a fresh random one). */
  namespace?: string;
}

/** What the race produced, with the invariants already checked against the stored stream. */
export interface SeatBookingRaceResult {
  namespace: string;
  streamId: string;
  /** Bookings the workers were told succeeded. */
  acknowledged: number;
  /** `SeatBooked` events in the stream. */
  stored: number;
  soldOut: number;
  /** Commands that ran out of retries (not an error; reported so a run can be judged). */
  gaveUp: number;
  /** Conflicts the workers retried: evidence that the processes really raced. */
  retries: number;
  streamVersion: number;
  /** Broken invariants; empty when the race was correct. */
  violations: string[];
}

/**
 * Several OS processes book seats of one hall (one stream) through `handleCommand` at the same
 * time. With optimistic concurrency enforced by the backend the result must be exactly `seats`
 * bookings, no seat twice, versions `1..N` contiguous and every acknowledged booking stored.
 * Each violation is listed in `violations`.
 */
export async function runSeatBookingRace(config: SeatBookingRaceConfig): Promise<SeatBookingRaceResult> {
  const namespace = config.namespace ?? `seats${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const streamId = `hall-${randomUUID()}`;
  const workers = Array.from({ length: config.processes }, (_, i) =>
    spawnTestWorker('seat-booking-worker', [
      config.url,
      namespace,
      streamId,
      String(config.attempts),
      String(config.seats),
      String(i),
    ]),
  );
  try {
    // Start together once every process has opened its store, to maximise contention.
    await Promise.all(workers.map((w) => w.waitForLine((line) => line === 'ready')));
    for (const w of workers) w.send('go');
    const reports = await Promise.all(
      workers.map(async (w) => {
        const { code, stderr } = await w.exited;
        if (code !== 0) throw new Error(`seat booking worker exited with code ${code}: ${stderr}`);
        const line = w.lines.find((l) => l.startsWith('{'));
        if (!line) throw new Error(`seat booking worker printed no report: ${stderr}`);
        return JSON.parse(line) as {
          booked: number;
          soldOut: number;
          gaveUp: number;
          retries: number;
          seats: number[];
        };
      }),
    );
    const store = await openStore(config.url, { namespace });
    try {
      const events = await store.readStream(streamId);
      const streamVersion = await store.streamVersion(streamId);
      const violations: string[] = [];
      const acknowledged = reports.reduce((n, r) => n + r.booked, 0);
      if (events.length !== config.seats)
        violations.push(`expected ${config.seats} bookings, stored ${events.length}`);
      if (acknowledged !== events.length)
        violations.push(`acknowledged ${acknowledged} bookings, stored ${events.length}`);
      if (streamVersion !== events.length)
        violations.push(`streamVersion ${streamVersion} but ${events.length} events`);
      events.forEach((event, i) => {
        if (event.version !== i + 1) violations.push(`event ${i} has version ${event.version}`);
      });
      const seen = new Set<number>();
      for (const event of events) {
        const seat = (event.data as { seat: number }).seat;
        if (seen.has(seat)) violations.push(`seat ${seat} booked twice`);
        seen.add(seat);
      }
      const storedSeats = [...seen].sort((a, b) => a - b).join(',');
      const ackedSeats = reports
        .flatMap((r) => r.seats)
        .sort((a, b) => a - b)
        .join(',');
      if (storedSeats !== ackedSeats) violations.push('acknowledged seats differ from stored seats');
      return {
        namespace,
        streamId,
        acknowledged,
        stored: events.length,
        soldOut: reports.reduce((n, r) => n + r.soldOut, 0),
        gaveUp: reports.reduce((n, r) => n + r.gaveUp, 0),
        retries: reports.reduce((n, r) => n + r.retries, 0),
        streamVersion,
        violations,
      };
    } finally {
      await store.close();
    }
  } finally {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  }
}
