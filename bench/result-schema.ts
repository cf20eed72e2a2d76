import { z } from 'zod';
import { allBackends, type BackendResult } from './bench-types.js';

const figure = z.number().finite().nonnegative();
const reference = z.object({ label: z.string().min(1), value: figure, ratio: figure });

const workload = z.object({
  id: z.string().min(1),
  description: z.string().min(1),
  unit: z.enum(['appends/s', 'events/s', 'µs']),
  value: figure,
  operations: z.number().int().nonnegative(),
  events: z.number().int().nonnegative(),
  durationMs: figure,
  concurrency: z.number().int().positive(),
  ceiling: reference.optional(),
  comparison: reference.optional(),
  targets: z.array(z.object({ description: z.string().min(1), pass: z.boolean() })),
  details: z.record(z.union([z.number(), z.string(), z.boolean()])),
});

/**
 * Schema of `bench/results/<backend>.json`. The report only renders files that pass it, so a
 * hand-edited or truncated file is reported instead of producing a misleading table.
 */
export const backendResultSchema = z
  .object({
    backend: z.enum(allBackends as [BackendResult['backend'], ...BackendResult['backend'][]]),
    date: z.string().datetime(),
    quick: z.boolean(),
    machine: z.object({
      platform: z.string(),
      arch: z.string(),
      cpuModel: z.string(),
      cpus: z.number().int().positive(),
      totalMemoryGiB: figure,
      loadAverage: figure,
      loadAverageAfter: figure.optional(),
      node: z.string().regex(/^v\d+\./),
    }),
    settings: z.record(z.union([z.number(), z.string(), z.boolean()])),
    workloads: z.array(workload).min(1),
    summary: z.object({ targets: z.number().int().nonnegative(), passed: z.number().int().nonnegative() }),
    notes: z.array(z.string()),
  })
  .refine(
    (r) => {
      const targets = r.workloads.flatMap((w) => w.targets);
      return (
        r.summary.targets === targets.length && r.summary.passed === targets.filter((t) => t.pass).length
      );
    },
    { message: 'summary does not match the workloads’ targets' },
  );
