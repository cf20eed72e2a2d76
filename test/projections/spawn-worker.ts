import { type JsonWorker, startJsonWorker } from '../support/json-worker.js';

/** A worker process from `test/projections/workers/` that prints one JSON object per line. */
export type Worker = JsonWorker;

/** Starts `test/projections/workers/<name>.ts`; `waitFor` waits until the message or the process's exit. */
export function spawnWorker(name: string, args: string[]): Worker {
  return startJsonWorker(new URL(`./workers/${name}.ts`, import.meta.url), args, Number.POSITIVE_INFINITY);
}
