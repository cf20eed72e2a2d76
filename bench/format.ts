import type { WorkloadResult } from './bench-types.js';

/** A figure with thousands separators; small values keep one decimal. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) < 100) return value.toLocaleString('en-US', { maximumFractionDigits: 1 });
  return Math.round(value).toLocaleString('en-US');
}

/** A ratio as a percentage, e.g. `93%`. */
export function formatRatio(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}

/** One progress line for a finished workload. */
export function describeWorkload(w: WorkloadResult): string {
  const parts = [`${w.id.padEnd(22)} ${formatNumber(w.value).padStart(12)} ${w.unit}`];
  if (w.ceiling) parts.push(`raw ${formatNumber(w.ceiling.value)} (${formatRatio(w.ceiling.ratio)})`);
  if (w.comparison)
    parts.push(
      `${w.comparison.label} ${formatNumber(w.comparison.value)} (×${w.comparison.ratio.toFixed(2)})`,
    );
  if (typeof w.details.conflicts === 'number') parts.push(`conflicts ${formatNumber(w.details.conflicts)}`);
  if (typeof w.details.ratioToShort === 'number') parts.push(`ratio ${w.details.ratioToShort.toFixed(2)}`);
  for (const t of w.targets) parts.push(`${t.pass ? 'PASS' : 'FAIL'} ${t.description}`);
  return parts.join('  ');
}
