import { afterAll, describe, it } from 'vitest';
import type { EventStore } from '../core/types.js';
import { appendCases } from './cases/append-cases.js';
import { badInputCases } from './cases/bad-input-cases.js';
import { closedStoreCases } from './cases/closed-store-cases.js';
import { concurrencyCases } from './cases/concurrency-cases.js';
import { conditionCases } from './cases/condition-cases.js';
import { expectedVersionCases } from './cases/expected-version-cases.js';
import { idempotencyCases } from './cases/idempotency-cases.js';
import { multiProcessCases } from './cases/multi-process-cases.js';
import { namespaceCases } from './cases/namespace-cases.js';
import { readAllCases } from './cases/read-all-cases.js';
import { readStreamCases } from './cases/read-stream-cases.js';
import { snapshotCases } from './cases/snapshot-cases.js';
import { streamIdCases } from './cases/stream-id-cases.js';
import { subscriptionCases } from './cases/subscription-cases.js';
import type { ConformanceConfig } from './conformance-config.js';
import {
  type ConformanceContext,
  randomNamespace,
  registerCase,
  trackAppends,
} from './conformance-context.js';

/** The case files of the suite, by case name (the keys `config.skip` accepts besides test names). */
export const conformanceCases: Readonly<Record<string, (ctx: ConformanceContext) => void>> = {
  'expected-version': expectedVersionCases,
  append: appendCases,
  idempotency: idempotencyCases,
  conditions: conditionCases,
  'stream-ids': streamIdCases,
  'bad-input': badInputCases,
  'read-stream': readStreamCases,
  'read-all': readAllCases,
  subscriptions: subscriptionCases,
  snapshots: snapshotCases,
  namespaces: namespaceCases,
  'closed-store': closedStoreCases,
  concurrency: concurrencyCases,
  'multi-process': multiProcessCases,
};

/**
 * Registers the event store conformance suite (vitest `describe`/`it`) for one backend. The same
 * cases run unchanged against every backend and cover the whole contract of `EventStore`:
 * expected versions, atomic and idempotent appends, conditions, stream ids, input validation,
 * reads, global order, subscriptions, snapshots, namespaces, closing, and (when `config.url` is
 * given and the store is `multiProcess`) races between OS processes.
 *
 * Each test works in a fresh random namespace with random stream ids, so several suites may share
 * one database. A test is skipped only with a visible reason: from `config.skip` (by case or test
 * name) or from the store's declared capabilities.
 */
export function runEventStoreConformance(config: ConformanceConfig): void {
  describe(`event store conformance: ${config.name}`, async () => {
    let root: EventStore;
    try {
      // Capabilities decide which cases apply, so the store is opened while the suite is collected.
      root = await config.create();
    } catch (error) {
      it('opens the store', () => {
        throw error;
      });
      return;
    }
    afterAll(() => root.close());
    const scale = Math.max(0.1, config.scale ?? 1);
    for (const [caseName, register] of Object.entries(conformanceCases)) {
      describe(caseName, () => {
        register({
          config,
          scale,
          root: () => root,
          fresh: () => trackAppends(root.withNamespace(randomNamespace())),
          namespace: (name) => trackAppends(root.withNamespace(name)),
          test: (name, body, options) => registerCase(config, caseName, name, body, options),
        });
      });
    }
  });
}
