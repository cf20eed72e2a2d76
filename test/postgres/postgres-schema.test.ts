import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import {
  latestSchemaVersion,
  migratePostgres,
  openPostgresStore,
  type PostgresDriver,
} from '../../src/backends/postgres/index.js';
import { driverOf } from '../../src/core/driver-event-store.js';
import { InvalidInputError, StoreUnavailableError } from '../../src/core/errors.js';
import { openStore } from '../../src/open-store.js';
import { describeWithService, postgresUrl } from '../support/services.js';
import { adminQuery, dropSchema, randomSchema, schemaUrl } from './postgres-test-schema.js';

const schemas: string[] = [];
function newSchema(): string {
  const schema = randomSchema('ordo_schema');
  schemas.push(schema);
  return schema;
}

describeWithService('postgres', 'postgres schema', () => {
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema);
  });

  it('migrates once, however often and however concurrently it runs', async () => {
    const schema = newSchema();
    await Promise.all(
      Array.from({ length: 5 }, () => migratePostgres({ connectionString: postgresUrl, schema })),
    );
    await migratePostgres({ connectionString: postgresUrl, schema });
    const rows = await adminQuery<{ version: number }>(
      `SELECT version FROM "${schema}".migrations ORDER BY version`,
    );
    expect(rows.map((r) => r.version)).toEqual([latestSchemaVersion]);
    const tables = await adminQuery<{ tablename: string }>(
      'SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1',
      [schema],
    );
    expect(tables.map((t) => t.tablename)).toEqual(['events', 'migrations', 'snapshots', 'streams']);
  });

  it('several stores opening a new schema at once all work on the same data', async () => {
    const schema = newSchema();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () =>
        openPostgresStore({ connectionString: postgresUrl, schema, poolSize: 2 }),
      ),
    );
    try {
      await Promise.all(stores.map((store, i) => store.append('shared', [{ type: 'Opened', data: i }])));
      expect(await stores[0]!.streamVersion('shared')).toBe(4);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('refuses a schema that is newer than the library', async () => {
    const schema = newSchema();
    await migratePostgres({ connectionString: postgresUrl, schema });
    await adminQuery(`INSERT INTO "${schema}".migrations (version, name) VALUES ($1, 'from the future')`, [
      latestSchemaVersion + 1,
    ]);
    await expect(openPostgresStore({ connectionString: postgresUrl, schema })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
  });

  it('without migration, a missing schema surfaces StoreUnavailableError with the database error as cause', async () => {
    const store = await openPostgresStore({
      connectionString: postgresUrl,
      schema: newSchema(),
      migrate: false,
    });
    try {
      const error = await store.append('s', [{ type: 'A', data: {} }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).cause).toBeInstanceOf(pg.DatabaseError);
    } finally {
      await store.close();
    }
  });

  it('rejects bad configuration with InvalidInputError', async () => {
    await expect(
      openPostgresStore({ connectionString: postgresUrl, schema: 'Bad-Name' }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(openPostgresStore({ schema: newSchema() })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(
      openPostgresStore({ connectionString: postgresUrl, namespace: 'a b' }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(openPostgresStore({ connectionString: postgresUrl, poolSize: 0 })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(migratePostgres({ connectionString: postgresUrl, schema: 'x;drop' })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
  });

  it('uses an injected pool, exposes it with the schema, and leaves it open on close', async () => {
    const schema = newSchema();
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
    try {
      const store = await openPostgresStore({ pool, schema });
      const driver = driverOf(store) as PostgresDriver;
      expect(driver.pool).toBe(pool);
      expect(driver.schema).toBe(schema);
      await store.append('s', [{ type: 'A', data: { ok: true } }]);
      await store.close();
      const rows = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".events`);
      expect(rows.rows[0].n).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('openStore resolves postgres URLs with ?schema= to the same data', async () => {
    const schema = newSchema();
    const namespace = `n${randomUUID().slice(0, 8)}`;
    const a = await openStore(schemaUrl(schema), { namespace });
    const b = await openPostgresStore({ connectionString: postgresUrl, schema, namespace });
    try {
      await a.append('s', [{ type: 'A', data: 1 }]);
      expect((await b.readStream('s')).map((e) => e.data)).toEqual([1]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
