import { HttpError } from './http-error.js';
import type { ProjectionRegistryLike } from './server-config.js';

/** What the API reports about the latest rebuild of a projection. */
export interface RebuildView {
  projection: string;
  state: 'running' | 'completed' | 'failed';
  processed: number;
  total: number | null;
  startedAt: string;
  finishedAt: string | null;
  error: { message: string } | null;
}

/**
 * Starts rebuilds in the background and remembers their progress, one rebuild per projection
 * at a time (a second request while one runs gets 409).
 */
export class RebuildTracker {
  readonly #registry: ProjectionRegistryLike;
  readonly #rebuilds = new Map<string, RebuildView>();
  readonly #running = new Set<Promise<unknown>>();

  constructor(registry: ProjectionRegistryLike) {
    this.#registry = registry;
  }

  start(name: string): RebuildView {
    const current = this.#rebuilds.get(name);
    if (current?.state === 'running') {
      throw new HttpError(
        409,
        'REBUILD_IN_PROGRESS',
        `projection ${JSON.stringify(name)} is already rebuilding`,
        {
          rebuild: current,
        },
      );
    }
    const view: RebuildView = {
      projection: name,
      state: 'running',
      processed: 0,
      total: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
    };
    this.#rebuilds.set(name, view);
    const run = this.#registry
      .rebuild(name, {
        onProgress: (p) => {
          view.processed = typeof p.processed === 'number' ? p.processed : view.processed;
          view.total = typeof p.total === 'number' ? p.total : view.total;
        },
      })
      .then(
        () => {
          view.state = 'completed';
          if (view.total !== null) view.processed = Math.max(view.processed, view.total);
        },
        (error: unknown) => {
          view.state = 'failed';
          view.error = { message: error instanceof Error ? error.message : String(error) };
        },
      )
      .finally(() => {
        view.finishedAt = new Date().toISOString();
        this.#running.delete(run);
      });
    this.#running.add(run);
    return { ...view };
  }

  get(name: string): RebuildView | undefined {
    const view = this.#rebuilds.get(name);
    return view ? { ...view } : undefined;
  }

  /** Waits for running rebuilds (used on shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.#running]);
  }
}
