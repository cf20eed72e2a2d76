import { MemoryDriver } from '../backends/memory/index.js';
import type { EventStoreDriver } from '../core/driver.js';
import { driverOf } from '../core/driver-event-store.js';
import { InvalidInputError } from '../core/errors.js';
import type { EventStore } from '../core/types.js';
import { MemoryProjectionStorage } from './memory-projection-storage.js';
import type { ProjectionStorage } from './projection-storage.js';

const storages = new WeakMap<EventStoreDriver, Promise<ProjectionStorage>>();

/**
 * The projection storage that lives with `store`'s data: the same SQLite file or PostgreSQL
 * schema (so checkpoints commit atomically with read models), NATS KV, or memory. One instance per
 * store connection and namespace; initialized (tables created) before it is returned.
 */
export function projectionStorageFor(store: EventStore): Promise<ProjectionStorage> {
  const driver = driverOf(store);
  if (!driver) throw new InvalidInputError('store', 'not an Ordo store; pass `storage` explicitly');
  let storage = storages.get(driver);
  if (!storage) {
    storage = create(driver, store.namespace).then(async (s) => {
      await s.init();
      return s;
    });
    storages.set(driver, storage);
    storage.catch(() => storages.delete(driver));
  }
  return storage;
}

async function create(driver: EventStoreDriver, namespace: string): Promise<ProjectionStorage> {
  if (driver instanceof MemoryDriver) return new MemoryProjectionStorage();
  // Backends are recognised by the connection handles their drivers expose; modules load on demand.
  const handles = driver as unknown as Record<string, unknown>;
  if (isSqliteDatabase(handles.database)) {
    const { SqliteProjectionStorage } = await import('./sqlite-projection-storage.js');
    return new SqliteProjectionStorage(handles.database as never, namespace);
  }
  if (typeof handles.streamName === 'string' && typeof handles.kvm === 'object' && handles.kvm !== null) {
    const { NatsProjectionStorage } = await import('./nats-projection-storage.js');
    const info = (handles.connection as { info?: { max_payload?: number } } | undefined)?.info;
    return new NatsProjectionStorage(handles.kvm as never, `${handles.streamName}_projections`, {
      ...(info?.max_payload ? { maxPayload: info.max_payload } : {}),
    });
  }
  if (typeof handles.schema === 'string' && isPgConnection(handles.pool)) {
    const { PostgresProjectionStorage } = await import('./postgres-projection-storage.js');
    return new PostgresProjectionStorage(handles.pool as never, handles.schema, namespace);
  }
  throw new InvalidInputError(
    'store',
    `no projection storage for this backend yet; pass \`storage\` explicitly`,
  );
}

function isSqliteDatabase(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { prepare?: unknown }).prepare === 'function' &&
    'inTransaction' in value
  );
}

function isPgConnection(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && typeof (value as { query?: unknown }).query === 'function'
  );
}
