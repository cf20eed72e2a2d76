import { createInMemoryStore } from './backends/memory/index.js';
import { InvalidInputError } from './core/errors.js';
import type { EventStore } from './core/types.js';

/** Options accepted by `openStore` for every URL scheme. */
export interface OpenStoreOptions {
  /** Isolated set of streams, positions and subscriptions (default `default`). */
  namespace?: string;
}

/**
 * Opens a store from a URL: `memory:`, `sqlite:<path>` (`sqlite::memory:` allowed),
 * `postgres://…` / `postgresql://…` (optional `?schema=`), `nats://host:port` (optional `?stream=`,
 * `?replicas=`). Backend modules are loaded on demand, so unused drivers are never imported.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<EventStore> {
  if (typeof url !== 'string' || url.length === 0)
    throw new InvalidInputError('url', 'must be a non-empty string');
  const namespace = options.namespace;
  const common = namespace === undefined ? {} : { namespace };
  if (url === 'memory:' || url === 'memory://') return createInMemoryStore(common);
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (path.length === 0)
      throw new InvalidInputError('url', 'sqlite: needs a path, e.g. sqlite:./.ordo/ordo.db');
    const { openSqliteStore } = await import('./backends/sqlite/index.js');
    return openSqliteStore({ path, ...common });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const parsed = parseUrl(url);
    const schema = parsed.searchParams.get('schema') ?? undefined;
    parsed.searchParams.delete('schema');
    const { openPostgresStore } = await import('./backends/postgres/index.js');
    return openPostgresStore({
      connectionString: parsed.toString(),
      ...(schema ? { schema } : {}),
      ...common,
    });
  }
  if (url.startsWith('nats://')) {
    const parsed = parseUrl(url);
    if (parsed.hostname.length === 0)
      throw new InvalidInputError('url', `store URL ${JSON.stringify(url)} has no host`);
    const stream = parsed.searchParams.get('stream') ?? undefined;
    const replicas = parsed.searchParams.get('replicas');
    if (replicas !== null && !/^[1-9][0-9]*$/.test(replicas)) {
      throw new InvalidInputError(
        'url',
        `replicas must be a positive integer, got ${JSON.stringify(replicas)}`,
      );
    }
    const { openNatsStore } = await import('./backends/nats/index.js');
    return openNatsStore({
      servers: `${parsed.hostname}:${parsed.port || '4222'}`,
      ...(stream ? { stream } : {}),
      ...(replicas ? { replicas: Number(replicas) } : {}),
      ...common,
    });
  }
  throw new InvalidInputError(
    'url',
    `unsupported store URL ${JSON.stringify(url)}; use memory:, sqlite:<path>, postgres://… or nats://…`,
  );
}

/** Parses a server URL; a malformed one is the caller's mistake, reported as `InvalidInputError`. */
function parseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new InvalidInputError('url', `malformed store URL ${JSON.stringify(url)}`, { cause: error });
  }
  return parsed;
}
