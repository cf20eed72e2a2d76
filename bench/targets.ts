import type { WorkloadResult } from './bench-types.js';

const number = (value: number): string => Math.round(value).toLocaleString('en-US');

/** Adds "figure ≥ threshold" to the workload's targets. */
export function requireAtLeast(workload: WorkloadResult, threshold: number): void {
  workload.targets.push({
    description: `≥ ${number(threshold)} ${workload.unit}`,
    pass: workload.value >= threshold,
  });
}

/** Adds "figure ≥ share of the raw ceiling" (needs `ceiling`). */
export function requireCeilingShare(workload: WorkloadResult, share: number): void {
  if (!workload.ceiling) throw new Error(`${workload.id} has no raw ceiling to compare with`);
  workload.targets.push({
    description: `≥ ${Math.round(share * 100)}% of raw ceiling`,
    pass: workload.ceiling.ratio >= share,
  });
}

/** Adds "faster than <comparison>" (needs `comparison`). */
export function requireFasterThanComparison(workload: WorkloadResult): void {
  if (!workload.comparison) throw new Error(`${workload.id} has no comparison figure`);
  workload.targets.push({
    description: `faster than ${workload.comparison.label}`,
    pass: workload.comparison.ratio > 1,
  });
}

/** Finds a workload by id; a missing one throws, so a target is never dropped without notice. */
export function byId(workloads: WorkloadResult[], id: string): WorkloadResult {
  const workload = workloads.find((w) => w.id === id);
  if (!workload) throw new Error(`no workload ${JSON.stringify(id)} to check a target against`);
  return workload;
}
