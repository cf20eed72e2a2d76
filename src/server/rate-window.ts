/** Counts per second of one namespace over the last `seconds` seconds (for the console charts). */
export interface RateSample {
  /** Start of the second, epoch milliseconds. */
  t: number;
  appends: number;
  events: number;
  conflicts: number;
  retries: number;
}

type Kind = Exclude<keyof RateSample, 't'>;

/**
 * A ring of per-second counters. Cheap to update on every request; readers get a dense series
 * (seconds without activity are zeros), oldest first.
 */
export class RateWindow {
  readonly #seconds: number;
  readonly #samples = new Map<number, RateSample>();

  constructor(seconds = 60) {
    this.#seconds = seconds;
  }

  add(kind: Kind, amount = 1, now = Date.now()): void {
    const t = Math.floor(now / 1000) * 1000;
    let sample = this.#samples.get(t);
    if (!sample) {
      sample = { t, appends: 0, events: 0, conflicts: 0, retries: 0 };
      this.#samples.set(t, sample);
      const oldest = t - this.#seconds * 1000;
      for (const key of this.#samples.keys()) if (key <= oldest) this.#samples.delete(key);
    }
    sample[kind] += amount;
  }

  series(now = Date.now()): RateSample[] {
    const last = Math.floor(now / 1000) * 1000;
    const result: RateSample[] = [];
    for (let t = last - (this.#seconds - 1) * 1000; t <= last; t += 1000) {
      result.push(this.#samples.get(t) ?? { t, appends: 0, events: 0, conflicts: 0, retries: 0 });
    }
    return result;
  }
}
