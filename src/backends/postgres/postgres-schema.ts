import pg from 'pg';
import { InvalidInputError } from '../../core/errors.js';
import { defaultSchema, type PostgresConnection, type PostgresMigrateConfig } from './postgres-config.js';
import { toStoreError } from './postgres-errors.js';

/** First key of every advisory lock Ordo takes ('ORDO'), so its locks never collide with an application's. */
export const advisoryLockClass = 0x4f52444f;

/** One step of the schema's history; applied once, in order, inside a transaction. */
interface Migration {
  version: number;
  name: string;
  sql: (schema: string) => string;
}

/** Double-quotes an identifier for SQL text. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Throws `InvalidInputError` unless `schema` is a plain lower-case SQL identifier. */
export function assertSchemaName(schema: unknown): asserts schema is string {
  if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new InvalidInputError('schema', `must match [a-z_][a-z0-9_]{0,62}, got ${JSON.stringify(schema)}`);
  }
}

/**
 * The append function. Everything an append needs happens in this one call (one round trip):
 * condition locks and check, stream compare-and-set, events insert. It reports conflicts as an
 * outcome instead of raising so that nothing is written and no error round trip is needed;
 * a duplicate event id raises the unique violation of `events_event_id_unique`.
 *
 * Locking (see docs/postgres.md): every append takes transaction-scoped SHARED advisory locks
 * on its event types and tags; a conditional append takes EXCLUSIVE ones on what it queries, so
 * it waits for in-flight matching appends to commit and then checks with a fresh snapshot.
 * Keys are taken in ascending order so that appends cannot deadlock on them.
 */
function appendFunctionSql(s: string): string {
  return `
CREATE OR REPLACE FUNCTION ${s}.append_events(
  p_namespace text,
  p_stream_id text,
  p_expected bigint,
  p_ids text[],
  p_ids_given boolean[],
  p_types text[],
  p_data text[],
  p_metadata text[],
  p_tag_counts int[],
  p_tags text[],
  p_created_at timestamptz,
  p_conditions jsonb,
  p_after_tx xid8,
  p_after_seq bigint,
  OUT outcome int,
  OUT stream_version bigint,
  OUT last_tx xid8,
  OUT last_seq bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  n int := cardinality(p_ids);
  q jsonb;
  q_types text[];
  q_tags text[];
BEGIN
  -- Positions come from transaction ids. A transaction that got its id before taking the locks
  -- below could commit a matching event after a conditional append that could not see it, yet
  -- sort before it; so an append must be the first write of its transaction.
  IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
    RAISE EXCEPTION 'an append must be the first write of its transaction (this one already has a transaction id)'
      USING ERRCODE = 'OR002';
  END IF;
  IF p_conditions IS NULL AND n = 1 AND cardinality(p_tags) = 0 THEN
    -- The common case, without the set work below.
    PERFORM pg_advisory_xact_lock_shared(${advisoryLockClass}, hashtext(p_namespace || ':t:' || p_types[1]));
  ELSIF p_conditions IS NULL THEN
    PERFORM pg_advisory_xact_lock_shared(${advisoryLockClass}, k)
    FROM (SELECT DISTINCT k FROM (
            SELECT hashtext(p_namespace || ':t:' || t) AS k FROM unnest(p_types) AS t
            UNION ALL
            SELECT hashtext(p_namespace || ':g:' || g) FROM unnest(p_tags) AS g) AS keys
          ORDER BY k) AS sorted;
  ELSE
    IF current_setting('transaction_isolation') <> 'read committed' THEN
      RAISE EXCEPTION 'conditional appends need READ COMMITTED isolation, not %',
        current_setting('transaction_isolation') USING ERRCODE = 'OR001';
    END IF;
    PERFORM CASE WHEN x THEN pg_advisory_xact_lock(${advisoryLockClass}, k)
                 ELSE pg_advisory_xact_lock_shared(${advisoryLockClass}, k) END
    FROM (SELECT k, bool_or(x) AS x FROM (
            SELECT hashtext(p_namespace || ':t:' || t) AS k, false AS x FROM unnest(p_types) AS t
            UNION ALL
            SELECT hashtext(p_namespace || ':g:' || g), false FROM unnest(p_tags) AS g
            UNION ALL
            SELECT hashtext(p_namespace || ':g:' || (c->'tags'->>0)), true
              FROM jsonb_array_elements(p_conditions) AS c WHERE c ? 'tags'
            UNION ALL
            SELECT hashtext(p_namespace || ':t:' || t), true
              FROM jsonb_array_elements(p_conditions) AS c, jsonb_array_elements_text(c->'types') AS t
              WHERE c ? 'types' AND NOT c ? 'tags') AS keys
          GROUP BY k ORDER BY k) AS sorted;
    -- A query without types and tags matches every event: no finer lock covers it. Every append
    -- locks the streams table (ROW EXCLUSIVE) before it takes its transaction id, so this waits
    -- for appends in flight and makes new ones wait until we commit.
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_conditions) AS c WHERE NOT c ? 'types' AND NOT c ? 'tags') THEN
      LOCK TABLE ${s}.streams IN SHARE ROW EXCLUSIVE MODE;
    END IF;
    -- Each statement below takes a new snapshot: it sees every append that held a lock we waited for.
    FOR q IN SELECT value FROM jsonb_array_elements(p_conditions) LOOP
      q_types := CASE WHEN q ? 'types' THEN ARRAY(SELECT jsonb_array_elements_text(q->'types')) END;
      q_tags := CASE WHEN q ? 'tags' THEN ARRAY(SELECT jsonb_array_elements_text(q->'tags')) END;
      IF q_tags IS NOT NULL THEN
        SELECT e.tx_id, e.seq INTO last_tx, last_seq FROM ${s}.events AS e
        WHERE cardinality(e.tags) > 0 AND e.tags @> q_tags AND e.namespace = p_namespace
          AND (q_types IS NULL OR e.type = ANY (q_types))
          AND (e.tx_id, e.seq) > (p_after_tx, p_after_seq)
        LIMIT 1;
      ELSIF q_types IS NOT NULL THEN
        SELECT e.tx_id, e.seq INTO last_tx, last_seq FROM ${s}.events AS e
        WHERE e.namespace = p_namespace AND e.type = ANY (q_types)
          AND (e.tx_id, e.seq) > (p_after_tx, p_after_seq)
        LIMIT 1;
      ELSE
        SELECT e.tx_id, e.seq INTO last_tx, last_seq FROM ${s}.events AS e
        WHERE e.namespace = p_namespace AND (e.tx_id, e.seq) > (p_after_tx, p_after_seq)
        LIMIT 1;
      END IF;
      IF FOUND THEN
        outcome := 2;
        SELECT st.version INTO stream_version FROM ${s}.streams AS st
        WHERE st.namespace = p_namespace AND st.stream_id = p_stream_id;
        stream_version := coalesce(stream_version, 0);
        RETURN;
      END IF;
    END LOOP;
  END IF;

  -- Stream compare-and-set: the row lock serialises appends to one stream; READ COMMITTED
  -- re-checks the condition against the latest committed version after waiting.
  IF p_expected = -1 THEN
    INSERT INTO ${s}.streams AS st (namespace, stream_id, version) VALUES (p_namespace, p_stream_id, n)
    ON CONFLICT (namespace, stream_id) DO UPDATE SET version = st.version + n
    RETURNING st.version INTO stream_version;
  ELSIF p_expected = 0 THEN
    INSERT INTO ${s}.streams (namespace, stream_id, version) VALUES (p_namespace, p_stream_id, n)
    ON CONFLICT (namespace, stream_id) DO NOTHING
    RETURNING version INTO stream_version;
  ELSIF p_expected = -2 THEN
    UPDATE ${s}.streams AS st SET version = st.version + n
    WHERE st.namespace = p_namespace AND st.stream_id = p_stream_id
    RETURNING st.version INTO stream_version;
  ELSE
    UPDATE ${s}.streams AS st SET version = st.version + n
    WHERE st.namespace = p_namespace AND st.stream_id = p_stream_id AND st.version = p_expected
    RETURNING st.version INTO stream_version;
  END IF;
  IF stream_version IS NULL THEN
    outcome := 1;
    SELECT st.version INTO stream_version FROM ${s}.streams AS st
    WHERE st.namespace = p_namespace AND st.stream_id = p_stream_id;
    stream_version := coalesce(stream_version, 0);
    RETURN;
  END IF;

  IF n = 1 THEN
    INSERT INTO ${s}.events (namespace, stream_id, version, event_id, id_given, type, data, metadata, tags, created_at)
    VALUES (p_namespace, p_stream_id, stream_version, p_ids[1], p_ids_given[1], p_types[1], p_data[1], p_metadata[1], p_tags, p_created_at)
    RETURNING seq INTO last_seq;
  ELSIF cardinality(p_tags) = 0 THEN
    -- seq values follow the ORDER BY, so global order matches stream order inside the batch,
    -- and currval (this session's last value) is the batch's last seq.
    INSERT INTO ${s}.events (namespace, stream_id, version, event_id, id_given, type, data, metadata, tags, created_at)
    SELECT p_namespace, p_stream_id, stream_version - n + u.ord, u.id, u.given, u.type, u.data, u.meta, '{}', p_created_at
    FROM unnest(p_ids, p_ids_given, p_types, p_data, p_metadata) WITH ORDINALITY AS u(id, given, type, data, meta, ord)
    ORDER BY u.ord;
    last_seq := currval('${s}.events_seq_seq');
  ELSE
    INSERT INTO ${s}.events (namespace, stream_id, version, event_id, id_given, type, data, metadata, tags, created_at)
    SELECT p_namespace, p_stream_id, stream_version - n + i.ord, i.id, i.given, i.type, i.data, i.meta,
           CASE WHEN i.tc = 0 THEN '{}'::text[] ELSE p_tags[i.off + 1 : i.off + i.tc] END, p_created_at
    FROM (SELECT u.*, (sum(u.tc) OVER (ORDER BY u.ord) - u.tc)::int AS off
          FROM unnest(p_ids, p_ids_given, p_types, p_data, p_metadata, p_tag_counts)
               WITH ORDINALITY AS u(id, given, type, data, meta, tc, ord)) AS i
    ORDER BY i.ord;
    last_seq := currval('${s}.events_seq_seq');
  END IF;
  last_tx := pg_current_xact_id();
  outcome := 0;
END
$fn$;`;
}

const migrations: Migration[] = [
  {
    version: 1,
    name: 'events, streams, snapshots and the append function',
    sql: (s) => `
CREATE TABLE ${s}.streams (
  namespace text NOT NULL,
  stream_id text NOT NULL,
  version bigint NOT NULL,
  PRIMARY KEY (namespace, stream_id)
) WITH (fillfactor = 70);

CREATE TABLE ${s}.events (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  namespace text NOT NULL,
  stream_id text NOT NULL,
  version bigint NOT NULL,
  event_id text NOT NULL,
  id_given boolean NOT NULL,
  type text NOT NULL,
  data text NOT NULL,
  metadata text NOT NULL,
  tags text[] NOT NULL,
  created_at timestamptz NOT NULL,
  CONSTRAINT events_stream_version PRIMARY KEY (namespace, stream_id, version)
);
-- Only ids chosen by the caller can repeat (retries); generated ones are random UUIDs, so they
-- skip this index and its cost.
CREATE UNIQUE INDEX events_event_id_unique ON ${s}.events (namespace, stream_id, event_id) WHERE id_given;
CREATE INDEX events_global_order ON ${s}.events (namespace, tx_id, seq);
CREATE INDEX events_tags ON ${s}.events USING gin (tags) WHERE cardinality(tags) > 0;

CREATE TABLE ${s}.snapshots (
  namespace text NOT NULL,
  stream_id text NOT NULL,
  version bigint NOT NULL,
  state text NOT NULL,
  schema text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (namespace, stream_id)
);
${appendFunctionSql(s)}`,
  },
];

/** The newest schema version this code knows. */
export const latestSchemaVersion = migrations[migrations.length - 1]!.version;

/**
 * Creates or upgrades the schema to {@link latestSchemaVersion}. Idempotent; concurrent callers
 * (several processes opening the store at once) are serialised by a transaction-scoped advisory
 * lock keyed by the schema name, and each pending migration is applied exactly once, all in one
 * transaction (a failure leaves the schema as it was).
 */
export async function migrateSchema(connection: PostgresConnection, schema: string): Promise<void> {
  assertSchemaName(schema);
  const s = quoteIdent(schema);
  let client: pg.ClientBase;
  try {
    client = connection instanceof pg.Pool ? await connection.connect() : connection;
  } catch (error) {
    throw toStoreError(error, `connecting to migrate schema ${schema}`);
  }
  let failed: unknown;
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        advisoryLockClass,
        `migrate:${schema}`,
      ]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const applied = await client.query<{ version: number }>(`SELECT version FROM ${s}.migrations`);
      const done = new Set(applied.rows.map((r) => r.version));
      const newest = Math.max(0, ...done);
      if (newest > latestSchemaVersion) {
        throw new InvalidInputError(
          'schema',
          `schema ${schema} is at version ${newest}, newer than this library (${latestSchemaVersion}); upgrade the library`,
        );
      }
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        await client.query(migration.sql(s));
        await client.query(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [
          migration.version,
          migration.name,
        ]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  } catch (error) {
    failed = error;
    throw toStoreError(error, `migrating schema ${schema}`);
  } finally {
    // A client whose connection failed must not go back to the pool.
    if (connection instanceof pg.Pool)
      (client as pg.PoolClient).release(failed instanceof Error ? failed : undefined);
  }
}

/**
 * Creates or upgrades the PostgreSQL schema of an Ordo store (what `ordo migrate` runs).
 * Safe to run repeatedly and from several processes at once; see {@link migrateSchema}.
 */
export async function migratePostgres(config: PostgresMigrateConfig): Promise<void> {
  const schema = config.schema ?? defaultSchema;
  assertSchemaName(schema);
  if (config.pool) return migrateSchema(config.pool, schema);
  if (typeof config.connectionString !== 'string' || config.connectionString.length === 0) {
    throw new InvalidInputError('connectionString', 'is required unless a pool is given');
  }
  const pool = new pg.Pool({ connectionString: config.connectionString, max: 1 });
  pool.on('error', () => {});
  try {
    await migrateSchema(pool, schema);
  } finally {
    await pool.end();
  }
}
