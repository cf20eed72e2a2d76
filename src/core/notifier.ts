/** A tiny in-process signal: `notify()` calls every registered listener. Used to wake subscriptions. */
export class Notifier {
  readonly #listeners = new Set<() => void>();

  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
