import type { EventStore } from '../core/types.js';

/** How the conformance suite reaches one backend. */
export interface ConformanceConfig {
  /** Shown in test names, e.g. `sqlite`. */
  name: string;
  /**
   * Opens a store. The suite isolates its cases with fresh namespaces (`withNamespace`) and
   * unique stream ids, so `create` may return stores over the same database.
   */
  create: () => Promise<EventStore>;
  /**
   * A URL that `openStore(url, { namespace })` in another OS process resolves to the same data
   * as `create()`. Required for the multi-process race cases when `capabilities.multiProcess`.
   */
  url?: string;
  /** Replaces the stored data of one record with undecodable text (for `readStreamWithErrors`). */
  corrupt?: (store: EventStore, streamId: string, version: number) => Promise<void>;
  /**
   * Cases to skip, each with the reason shown in the output. A key is either a case name (a group
   * such as `multi-process` or `subscriptions`, see `conformanceCases`) or the name of one test.
   */
  skip?: Record<string, string>;
  /** Scales the sizes of the heavier cases (default 1). */
  scale?: number;
}
