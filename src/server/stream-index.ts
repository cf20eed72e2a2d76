import { comparePositions, START } from '../core/position.js';
import type { EventStore, Position } from '../core/types.js';

/** One stream as the stream browser lists it. */
export interface StreamSummary {
  streamId: string;
  version: number;
  lastPosition: Position;
  lastType: string;
  lastTimestamp: string;
}

/** Options of `StreamIndex.list`. */
export interface ListStreamsOptions {
  /** Case-insensitive substring of the stream id. */
  search?: string;
  /** Cursor: list streams whose id sorts after this one. */
  after?: string;
  limit?: number;
}

const PAGE = 1_000;

/**
 * A stream listing derived from `readAll`: it remembers how far it has read and only reads
 * newer events on each refresh, so listing costs O(new events) after the first call. Refreshes
 * are serialized, so concurrent requests never read the same page twice.
 */
export class StreamIndex {
  readonly #store: EventStore;
  readonly #streams = new Map<string, StreamSummary>();
  #position: Position = START;
  #refreshing: Promise<void> | undefined;

  constructor(store: EventStore) {
    this.#store = store;
  }

  refresh(): Promise<void> {
    this.#refreshing ??= this.#catchUp().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #catchUp(): Promise<void> {
    for (;;) {
      const events = await this.#store.readAll({ after: this.#position, limit: PAGE });
      for (const e of events) {
        this.#streams.set(e.streamId, {
          streamId: e.streamId,
          version: e.version,
          lastPosition: e.position,
          lastType: e.type,
          lastTimestamp: e.timestamp.toISOString(),
        });
        if (comparePositions(e.position, this.#position) > 0) this.#position = e.position;
      }
      if (events.length < PAGE) return;
    }
  }

  /** Streams sorted by id, after the cursor, matching the search; `nextAfter` pages on. */
  async list(
    options: ListStreamsOptions = {},
  ): Promise<{ streams: StreamSummary[]; nextAfter: string | null; total: number }> {
    await this.refresh();
    const search = options.search?.toLowerCase();
    const limit = Math.max(1, options.limit ?? 100);
    const matching = [...this.#streams.values()]
      .filter((s) => !search || s.streamId.toLowerCase().includes(search))
      .sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0));
    const start = options.after === undefined ? 0 : matching.findIndex((s) => s.streamId > options.after!);
    const page = start < 0 ? [] : matching.slice(start, start + limit);
    const more = start >= 0 && start + limit < matching.length;
    return {
      streams: page,
      nextAfter: more ? page[page.length - 1]!.streamId : null,
      total: matching.length,
    };
  }
}
