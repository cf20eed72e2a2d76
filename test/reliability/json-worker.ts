import { type JsonWorker, startJsonWorker as start } from '../support/json-worker.js';

export type { JsonWorker } from '../support/json-worker.js';

/** Starts `test/reliability/workers/<name>.ts`; `waitFor` gives up after 30 s unless told otherwise. */
export function startJsonWorker(name: string, args: string[]): JsonWorker {
  return start(new URL(`./workers/${name}.ts`, import.meta.url), args);
}
