import type { ProjectionRegistryLike } from './server-config.js';

/** A projection's status in the shape the API, metrics and console use. */
export interface ProjectionStatusView {
  name: string;
  state: string;
  position: string | null;
  lagEvents: number;
  lagMs: number;
  processed: number;
  errors: number;
  lastError: unknown;
  /** Everything the registry reported, unchanged. */
  details: Record<string, unknown>;
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** Normalizes one status object of the registry (field names vary between `lag.events` and `lagEvents`). */
export function toStatusView(raw: unknown, fallbackName = ''): ProjectionStatusView {
  const s = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const lag = (typeof s.lag === 'object' && s.lag !== null ? s.lag : {}) as Record<string, unknown>;
  // Registries report either an error count or the last error plus parked (skipped-on-error) events.
  const errors =
    s.errors ?? s.errorCount ?? (s.lastError ? 1 : 0) + (Array.isArray(s.parked) ? s.parked.length : 0);
  return {
    name: typeof s.name === 'string' ? s.name : fallbackName,
    state: typeof s.state === 'string' ? s.state : 'unknown',
    position: typeof s.position === 'string' ? s.position : null,
    lagEvents: num(lag.events ?? s.lagEvents),
    lagMs: num(lag.ms ?? s.lagMs),
    processed: num(s.processed ?? s.processedCount),
    errors: Array.isArray(errors) ? errors.length : num(errors),
    lastError: s.lastError ?? null,
    details: JSON.parse(
      JSON.stringify(s, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message } : v)),
    ),
  };
}

/** Statuses of every projection of the registry. */
export async function projectionStatuses(registry: ProjectionRegistryLike): Promise<ProjectionStatusView[]> {
  const raw = await registry.status();
  const list = Array.isArray(raw)
    ? raw
    : typeof raw === 'object' && raw !== null
      ? Object.entries(raw as Record<string, unknown>).map(([name, v]) => ({ name, ...(v as object) }))
      : [];
  return list.map((s) => toStatusView(s));
}

/** Names of the registry's projections, whatever shape `list()` returns. */
export async function projectionNames(registry: ProjectionRegistryLike): Promise<string[]> {
  const raw = (await registry.list()) as unknown;
  if (!Array.isArray(raw)) return [];
  return raw
    .map((p) =>
      typeof p === 'string'
        ? p
        : typeof p === 'object' && p !== null
          ? (p as { name?: unknown }).name
          : undefined,
    )
    .filter((n): n is string => typeof n === 'string');
}
