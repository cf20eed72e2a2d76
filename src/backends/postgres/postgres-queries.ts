import type { StoredRecord } from '../../core/driver.js';
import type { EventQuery, ExpectedVersion } from '../../core/types.js';
import { advisoryLockClass, quoteIdent } from './postgres-schema.js';

const statementNames = new Map<string, string>();

/**
 * The prepared-statement name of a SQL text (stable for the process), so that each distinct
 * text is parsed and planned once per connection.
 */
export function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `ordo_${statementNames.size}`;
    statementNames.set(text, name);
  }
  return name;
}

/** Columns of a record, in the order `toRecord` reads them (rows come back as arrays: less decoding work). */
// Aliased so that ORDER BY on the bare column names means the stored columns, not these casts
// (the casts would sort text and bypass the indexes).
const recordColumns =
  "e.stream_id, e.version::float8 AS version_, e.tx_id::text || '.' || e.seq::text AS position_, e.event_id, e.type, " +
  // Empty tag arrays come back as NULL: most events have none, and that skips the array parser.
  "e.data, e.metadata, CASE WHEN cardinality(e.tags) > 0 THEN e.tags END AS tags_, date_part('epoch', e.created_at) * 1000 AS created_at_ms";

/** A result row in array mode. */
export type Row = unknown[];

/** A stored record from a row selected with the record columns. */
export function toRecord(row: Row): StoredRecord {
  return {
    streamId: row[0] as string,
    version: row[1] as number,
    position: row[2] as string,
    id: row[3] as string,
    type: row[4] as string,
    data: row[5] as string,
    metadata: row[6] as string,
    tags: (row[7] as string[] | null) ?? [],
    timestamp: Math.round(row[8] as number),
  };
}

/** The function's encoding of an expected version: -1 any, -2 stream_exists, n >= 0 exact (0 = no stream). */
export function encodeExpected(expected: ExpectedVersion): number {
  if (expected === 'any') return -1;
  if (expected === 'stream_exists') return -2;
  if (expected === 'no_stream') return 0;
  return expected;
}

/** Drops empty arrays: a query with `types: []` restricts nothing, exactly like one without `types`. */
export function normalizeConditionQuery(query: EventQuery): EventQuery {
  const result: EventQuery = {};
  if (query.types && query.types.length > 0) result.types = query.types;
  if (query.tags && query.tags.length > 0) result.tags = query.tags;
  return result;
}

/** SQL for "matches any of the queries", adding the arrays to `params`. */
export function filterSql(filter: EventQuery[], params: unknown[]): string {
  const parts = filter.map((query) => {
    const clauses: string[] = [];
    if (query.types && query.types.length > 0) {
      params.push(query.types);
      clauses.push(`e.type = ANY ($${params.length}::text[])`);
    }
    if (query.tags && query.tags.length > 0) {
      params.push(query.tags);
      clauses.push(`e.tags @> $${params.length}::text[]`);
    }
    return clauses.length === 0 ? 'true' : `(${clauses.join(' AND ')})`;
  });
  return `(${parts.join(' OR ')})`;
}

/**
 * One statement for the most common append: a single event without tags or condition. It does
 * what `append_events` does for it (same guard, same lock, taken before the stream row is
 * written and so before the transaction gets its id) without the function call overhead.
 * Returns no version when the stream compare-and-set did not match.
 */
function singleAppendSql(s: string, streamUpdate: string): string {
  return `WITH guard AS (
  SELECT pg_current_xact_id_if_assigned() IS NULL AS ok,
         pg_advisory_xact_lock_shared(${advisoryLockClass}, hashtext($1 || ':t:' || $5)) AS locked),
stream AS (${streamUpdate}),
inserted AS (
  INSERT INTO ${s}.events (namespace, stream_id, version, event_id, id_given, type, data, metadata, tags, created_at)
  SELECT $1, $2, stream.version, $3, $4, $5, $6, $7, '{}', $8 FROM stream
  RETURNING version, tx_id, seq)
SELECT (SELECT ok FROM guard), inserted.version::float8, inserted.tx_id::text, inserted.seq::text
FROM (SELECT 1) AS one LEFT JOIN inserted ON true`;
}

/** Every SQL text the driver runs against `schema`, built once per store. */
export function statements(schema: string) {
  const s = quoteIdent(schema);
  const visible = 'e.tx_id < pg_snapshot_xmin(pg_current_snapshot())';
  return {
    append: `SELECT outcome, stream_version::float8, last_tx::text, last_seq::text FROM ${s}.append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    readForwards: `SELECT ${recordColumns} FROM ${s}.events AS e WHERE namespace = $1 AND stream_id = $2 AND version >= $3 AND version <= $4 ORDER BY e.version LIMIT $5`,
    readBackwards: `SELECT ${recordColumns} FROM ${s}.events AS e WHERE namespace = $1 AND stream_id = $2 AND version <= $3 AND version >= $4 ORDER BY e.version DESC LIMIT $5`,
    // Uses the partial unique index; ids the store generated are found by findAnyByIds.
    findByIds: `SELECT ${recordColumns} FROM ${s}.events AS e WHERE namespace = $1 AND stream_id = $2 AND event_id = ANY ($3::text[]) AND id_given ORDER BY e.version`,
    findAnyByIds: `SELECT ${recordColumns} FROM ${s}.events AS e WHERE namespace = $1 AND stream_id = $2 AND event_id = ANY ($3::text[]) ORDER BY e.version`,
    single: {
      any: singleAppendSql(
        s,
        `INSERT INTO ${s}.streams AS st (namespace, stream_id, version) SELECT $1, $2, 1 FROM guard WHERE guard.ok
         ON CONFLICT (namespace, stream_id) DO UPDATE SET version = st.version + 1 RETURNING st.version`,
      ),
      noStream: singleAppendSql(
        s,
        `INSERT INTO ${s}.streams AS st (namespace, stream_id, version) SELECT $1, $2, 1 FROM guard WHERE guard.ok
         ON CONFLICT (namespace, stream_id) DO NOTHING RETURNING st.version`,
      ),
      exists: singleAppendSql(
        s,
        `UPDATE ${s}.streams AS st SET version = st.version + 1 FROM guard
         WHERE guard.ok AND st.namespace = $1 AND st.stream_id = $2 RETURNING st.version`,
      ),
      exact: singleAppendSql(
        s,
        `UPDATE ${s}.streams AS st SET version = st.version + 1 FROM guard
         WHERE guard.ok AND st.namespace = $1 AND st.stream_id = $2 AND st.version = $9 RETURNING st.version`,
      ),
    },
    appendedSeqs: `SELECT e.seq::text FROM ${s}.events AS e WHERE e.namespace = $1 AND e.stream_id = $2 AND e.version BETWEEN $3 AND $4 ORDER BY e.version`,
    streamVersion: `SELECT version::float8 FROM ${s}.streams WHERE namespace = $1 AND stream_id = $2`,
    readAll: (filter: string) =>
      `SELECT ${recordColumns} FROM ${s}.events AS e WHERE namespace = $1 AND (e.tx_id, e.seq) > ($2::xid8, $3::int8) AND ${visible}${filter} ORDER BY e.tx_id, e.seq LIMIT $4`,
    snapshot: 'SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text FROM pg_current_snapshot() AS s',
    head: `SELECT e.tx_id::text AS tx_id_, e.seq::text AS seq_ FROM ${s}.events AS e WHERE e.namespace = $1 AND ${visible} ORDER BY e.tx_id DESC, e.seq DESC LIMIT 1`,
    saveSnapshot: `INSERT INTO ${s}.snapshots (namespace, stream_id, version, state, schema, created_at) VALUES ($1, $2, $3, $4, $5, to_timestamp($6::float8 / 1000))
      ON CONFLICT (namespace, stream_id) DO UPDATE SET version = excluded.version, state = excluded.state, schema = excluded.schema, created_at = excluded.created_at`,
    loadSnapshot: `SELECT version::float8, state, schema, date_part('epoch', created_at) * 1000 FROM ${s}.snapshots WHERE namespace = $1 AND stream_id = $2`,
    corrupt: `UPDATE ${s}.events SET data = $4 WHERE namespace = $1 AND stream_id = $2 AND version = $3`,
  };
}
