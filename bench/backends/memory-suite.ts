import { createInMemoryStore } from '../../src/index.js';
import type { SuiteContext, WorkloadResult } from '../bench-types.js';
import {
  measureAppends,
  measureHotStream,
  measureReadAll,
  measureStreamVersion,
  standardAppendShapes,
} from '../store-workloads.js';

/**
 * The in-memory reference backend: no database, so no raw ceiling and no targets beyond the
 * correctness checks every workload carries. Its figures show the cost of the core layer alone.
 */
export async function runMemorySuite(ctx: SuiteContext): Promise<{
  workloads: WorkloadResult[];
  settings: Record<string, string | number | boolean>;
}> {
  const store = createInMemoryStore();
  try {
    const workloads: WorkloadResult[] = [];
    for (const shape of standardAppendShapes) {
      workloads.push(await measureAppends(store, ctx, shape));
      ctx.log(`  ${shape.id} done`);
    }
    workloads.push(await measureHotStream(store, ctx));
    workloads.push(...(await measureStreamVersion(store, ctx)));
    workloads.push(await measureReadAll(store, ctx));
    return { workloads, settings: {} };
  } finally {
    await store.close();
  }
}
