import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type ProjectionStatusView, projectionStatuses } from './projection-status.js';
import type { ProjectionRegistryLike } from './server-config.js';

/** Prometheus metrics of one server, in a registry of its own (never the global default). */
export interface ServerMetrics {
  readonly registry: Registry;
  readonly appends: Counter<'namespace'>;
  readonly eventsAppended: Counter<'namespace'>;
  readonly conflicts: Counter<'namespace' | 'kind'>;
  readonly retries: Counter<'namespace'>;
  readonly appendDuration: Histogram<'namespace'>;
  readonly subscriptions: Gauge;
}

/**
 * Creates the metrics. Projection lag and errors are read from the registry at scrape time, so
 * they are never stale.
 */
export function createServerMetrics(projections: ProjectionRegistryLike | undefined): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const metrics: ServerMetrics = {
    registry,
    appends: new Counter({
      name: 'ordo_appends_total',
      help: 'Successful appends through the API',
      labelNames: ['namespace'],
      registers,
    }),
    eventsAppended: new Counter({
      name: 'ordo_events_appended_total',
      help: 'Events written by successful appends through the API',
      labelNames: ['namespace'],
      registers,
    }),
    conflicts: new Counter({
      name: 'ordo_conflicts_total',
      help: 'Appends rejected by optimistic concurrency control (kind: version or condition)',
      labelNames: ['namespace', 'kind'],
      registers,
    }),
    retries: new Counter({
      name: 'ordo_retries_total',
      help: 'Appends that clients marked as a retry after a conflict (Ordo-Attempt header > 1)',
      labelNames: ['namespace'],
      registers,
    }),
    appendDuration: new Histogram({
      name: 'ordo_append_duration_seconds',
      help: 'Latency of appends through the API, including conflicts',
      labelNames: ['namespace'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    subscriptions: new Gauge({
      name: 'ordo_sse_subscriptions',
      help: 'Open server-sent-event subscriptions',
      registers,
    }),
  };
  if (projections) {
    // prom-client collects every metric of a scrape concurrently: the gauges share one status read.
    let inflight: Promise<ProjectionStatusView[]> | undefined;
    const statuses = () => {
      inflight ??= projectionStatuses(projections).finally(() => {
        inflight = undefined;
      });
      return inflight;
    };
    const gauge = (name: string, help: string, value: (s: ProjectionStatusView) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['projection'],
        registers,
        async collect() {
          const list = await statuses();
          this.reset();
          for (const s of list) this.set({ projection: s.name }, value(s));
        },
      });
    gauge('ordo_projection_lag_events', 'Events the projection still has to process', (s) => s.lagEvents);
    gauge(
      'ordo_projection_lag_seconds',
      'Age of the oldest event the projection has not processed yet',
      (s) => s.lagMs / 1000,
    );
    gauge(
      'ordo_projection_errors',
      'Errors the projection has hit (last error and parked events)',
      (s) => s.errors,
    );
    gauge('ordo_projection_processed_events', 'Events processed by the projection', (s) => s.processed);
  }
  return metrics;
}
