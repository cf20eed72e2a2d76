import type { ApiError } from '@nats-io/jetstream';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import { createInbox } from '@nats-io/transport-node';
import { StoreUnavailableError } from '../../core/errors.js';

/** Acknowledgement of a stored JetStream message. */
export interface PublishAck {
  seq: number;
  /** True when the server recognised the message id and returned the earlier message's sequence. */
  duplicate: boolean;
}

interface Pending {
  resolve: (ack: PublishAck) => void;
  reject: (error: Error) => void;
  deadline: number;
}

const decoder = new TextDecoder();

/**
 * Pipelined JetStream publisher: every publish carries a reply subject under one wildcard inbox
 * subscription, so many appends can be in flight on one connection without a request object and
 * a timer per message (timeouts are swept in order of their deadline, all deadlines having the
 * same length). Acknowledgements may arrive in any order; each is matched by its reply token.
 * A message whose acknowledgement does not arrive in time is reported as `StoreUnavailableError`:
 * it may still have been stored, which is why retried appends carry the same message id.
 */
export class AckPublisher {
  readonly #nc: NatsConnection;
  readonly #timeoutMs: number;
  readonly #inbox: string;
  readonly #pending = new Map<string, Pending>();
  readonly #subscription: Subscription;
  readonly #sweeper: NodeJS.Timeout;
  #counter = 0;

  constructor(nc: NatsConnection, timeoutMs: number) {
    this.#nc = nc;
    this.#timeoutMs = timeoutMs;
    this.#inbox = createInbox();
    this.#subscription = nc.subscribe(`${this.#inbox}.*`, { callback: (_error, msg) => this.#onReply(msg) });
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(20, Math.min(1_000, timeoutMs / 4)));
    this.#sweeper.unref();
  }

  /** Publishes `payload` on `subject` and resolves with the stream's acknowledgement. */
  publish(subject: string, payload: Uint8Array, headers: MsgHdrs): Promise<PublishAck> {
    const token = (this.#counter++).toString(36);
    return new Promise<PublishAck>((resolve, reject) => {
      this.#pending.set(token, { resolve, reject, deadline: Date.now() + this.#timeoutMs });
      try {
        this.#nc.publish(subject, payload, { reply: `${this.#inbox}.${token}`, headers });
      } catch (error) {
        this.#pending.delete(token);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  #onReply(msg: Msg): void {
    const token = msg.subject.slice(this.#inbox.length + 1);
    const pending = this.#pending.get(token);
    if (!pending) return;
    this.#pending.delete(token);
    const status = msg.headers?.code ?? 0;
    if (status === 503) {
      pending.reject(new StoreUnavailableError('JetStream did not answer the publish (no responders)'));
      return;
    }
    try {
      const body = JSON.parse(decoder.decode(msg.data)) as {
        seq?: number;
        duplicate?: boolean;
        error?: ApiError;
      };
      if (body.error) {
        pending.reject(new JetStreamApiError(body.error));
      } else if (typeof body.seq === 'number') {
        pending.resolve({ seq: body.seq, duplicate: body.duplicate === true });
      } else {
        pending.reject(new StoreUnavailableError(`unexpected publish acknowledgement (status ${status})`));
      }
    } catch (error) {
      pending.reject(new StoreUnavailableError('undecodable publish acknowledgement', { cause: error }));
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const [token, pending] of this.#pending) {
      if (pending.deadline > now) break; // insertion order is deadline order
      this.#pending.delete(token);
      pending.reject(
        new StoreUnavailableError(
          `publish not acknowledged within ${this.#timeoutMs} ms (it may still be stored)`,
        ),
      );
    }
  }

  /** Stops the reply subscription and fails what is still waiting. */
  close(): void {
    clearInterval(this.#sweeper);
    if (!this.#subscription.isClosed()) this.#subscription.unsubscribe();
    for (const pending of this.#pending.values())
      pending.reject(new StoreUnavailableError('the store was closed before the publish was acknowledged'));
    this.#pending.clear();
  }
}
