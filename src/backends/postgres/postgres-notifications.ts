import pg from 'pg';
import type { Notifier } from '../../core/notifier.js';

/** Channel name of a schema's append notifications (one channel per schema, all namespaces). */
export function notificationChannel(schema: string): string {
  return `ordo_${schema}`.slice(0, 63);
}

/**
 * Optional cross-process wake-up for live subscriptions (`notify: true`).
 *
 * Sending: after an append commits, one `NOTIFY` is sent on a pool connection as its own
 * statement, never inside the append's transaction (a NOTIFY in the append transaction would
 * serialise all appending commits on the server's notification queue lock). Sends are coalesced:
 * at most one is in flight, and appends made meanwhile are covered by one more. A lost
 * notification only delays subscribers until their next poll.
 *
 * Receiving: one dedicated connection LISTENs and wakes this process's subscriptions; when it
 * fails it is reopened after a pause, until `close()`.
 */
export class PostgresNotifications {
  readonly #pool: pg.Pool;
  readonly #channel: string;
  readonly #connectionString: string;
  readonly #notifier: Notifier;
  #sending = false;
  #again = false;
  #closed = false;
  #listener: pg.Client | undefined;
  #retry: NodeJS.Timeout | undefined;

  constructor(pool: pg.Pool, connectionString: string, schema: string, notifier: Notifier) {
    this.#pool = pool;
    this.#connectionString = connectionString;
    this.#channel = notificationChannel(schema);
    this.#notifier = notifier;
  }

  /** Resolves once the listening connection is up (the first attempt); later failures reconnect. */
  async start(): Promise<void> {
    await this.#listen();
  }

  async #listen(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({
      connectionString: this.#connectionString,
      application_name: 'ordo-listen',
    });
    const reconnect = () => {
      if (this.#listener !== client || this.#closed) return;
      this.#listener = undefined;
      client.end().catch(() => {});
      // Appends missed while disconnected are found by the subscriptions' polling.
      this.#retry = setTimeout(() => {
        this.#listen().catch(() => reconnect());
      }, 1_000);
    };
    client.on('error', reconnect);
    client.on('end', reconnect);
    client.on('notification', () => this.#notifier.notify());
    this.#listener = client;
    await client.connect();
    await client.query(`LISTEN "${this.#channel}"`);
  }

  /** Announces that this process appended (coalesced; never throws). */
  announce(): void {
    if (this.#closed) return;
    if (this.#sending) {
      this.#again = true;
      return;
    }
    this.#sending = true;
    this.#pool
      .query("SELECT pg_notify($1, '')", [this.#channel])
      .catch(() => {})
      .finally(() => {
        this.#sending = false;
        if (this.#again) {
          this.#again = false;
          this.announce();
        }
      });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => {});
  }
}
