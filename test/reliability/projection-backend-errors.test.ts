import { describe, expect, it } from 'vitest';
import { createInMemoryStore } from '../../src/backends/memory/index.js';
import { StoreUnavailableError } from '../../src/core/errors.js';
import {
  createProjectionRegistry,
  defineProjection,
  MemoryProjectionStorage,
} from '../../src/projections/index.js';
import { cleanRebuild, ledgerEvent, ledgerProjection, readModel } from './read-model.js';

/**
 * Storage whose document reads fail with StoreUnavailableError a few times, the way a database
 * read fails while its connection is being dropped (seen with pg_terminate_backend on PostgreSQL).
 */
class FlakyDocumentStorage extends MemoryProjectionStorage {
  failures = 0;
  constructor(
    private readonly failAtRead: number,
    private readonly failTimes: number,
  ) {
    super();
  }
  #reads = 0;
  #maybeFail(): void {
    this.#reads++;
    if (this.#reads >= this.failAtRead && this.failures < this.failTimes) {
      this.failures++;
      throw new StoreUnavailableError('connection dropped', { cause: new Error('simulated') });
    }
  }
  override async readDocument(slot: string, id: string): Promise<string | undefined> {
    this.#maybeFail();
    return super.readDocument(slot, id);
  }
  override readDocumentSync(slot: string, id: string): string | undefined {
    this.#maybeFail();
    return super.readDocumentSync(slot, id);
  }
}

/*
 * docs/projections.md: "Backend errors (database down) keep the checkpoint unchanged, show in
 * lastError, and are retried after a pause." A backend error raised by `ctx.docs.get` inside a
 * handler must therefore not count as a handler failure (which stops the projection, or with
 * onError 'park' drops the event from the read model).
 */
describe('a backend error inside a handler is retried, not blamed on the handler', () => {
  for (const onError of ['stop', 'park'] as const) {
    it(`onError '${onError}': the projection keeps running and ends equal to a clean rebuild`, async () => {
      const store = createInMemoryStore();
      try {
        for (let n = 0; n < 60; n += 10) {
          await store.append(
            `s-${n}`,
            Array.from({ length: 10 }, (_, i) => ledgerEvent(n + i)),
          );
        }
        const base = ledgerProjection();
        const projection = defineProjection({ ...base, onError });
        const storage = new FlakyDocumentStorage(3, 2);
        const registry = createProjectionRegistry({
          store,
          projections: [projection],
          storage,
          batchSize: 10,
          pollIntervalMs: 20,
        });
        await registry.start();
        try {
          await registry.waitForCatchUp({ timeoutMs: 10_000 });
          expect(storage.failures).toBe(2);
          const status = await registry.status('ledger');
          expect(status.state).not.toBe('failed');
          expect(status.parked).toEqual([]);
          expect(await readModel(registry, 'ledger')).toEqual(await cleanRebuild(store, ledgerProjection()));
        } finally {
          await registry.stop();
        }
      } finally {
        await store.close();
      }
    });
  }
});
