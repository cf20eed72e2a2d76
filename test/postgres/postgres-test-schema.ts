import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgresUrl } from '../support/services.js';

/** A fresh schema name per test file and run, so suites sharing one server never see each other. */
export function randomSchema(prefix = 'ordo_t'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** `postgres://…?schema=<schema>` as `openStore` (and worker processes) accept it. */
export function schemaUrl(schema: string): string {
  const url = new URL(postgresUrl);
  url.searchParams.set('schema', schema);
  return url.toString();
}

/** Runs one statement on a short-lived connection of its own (outside every store's pool). */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
