import { randomUUID } from 'node:crypto';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import pg from 'pg';
import { migratePostgres, openPostgresStore } from '../../src/backends/postgres/index.js';
import type { SuiteContext, WorkloadResult } from '../bench-types.js';
import { runTimed } from '../measure.js';
import type { SuiteOutcome } from '../run.js';
import {
  type AppendShape,
  benchEvents,
  measureAppends,
  measureHotStream,
  measureReadAll,
  measureStreamVersion,
  type Reference,
  standardAppendShapes,
} from '../store-workloads.js';
import { byId, requireAtLeast, requireCeilingShare, requireFasterThanComparison } from '../targets.js';

const POOL_SIZE = 16;
const RAW_SCHEMA = 'raw_ceiling';
const CEILING_LABEL =
  'plain INSERT of the same rows into the same table shape (scratch schema, same connection count)';

/** Connection string of another database on the same server. */
function databaseUrl(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * Raw ceiling: the same rows inserted into a table of the same shape (the backend's own
 * migration, in a scratch schema) with one plain INSERT statement per append (a multi-row
 * `unnest` INSERT for batches), autocommit, no stream-version check, on a pool of as many
 * connections as writers.
 */
function rawCeiling(url: string, ctx: SuiteContext, shape: AppendShape): Reference {
  const pool = new pg.Pool({ connectionString: url, max: shape.concurrency });
  pool.on('error', () => {});
  const events = benchEvents(shape.batch);
  const versions = new Array<number>(shape.concurrency).fill(0);
  const text = `INSERT INTO ${RAW_SCHEMA}.events (namespace, stream_id, version, event_id, id_given, type, data, metadata, tags, created_at)
    SELECT 'default', $1, v, id, false, t, d, m, '{}', $6
    FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $7::text[]) AS u(v, id, t, d, m)`;
  const op = async (worker: number): Promise<number> => {
    const first = versions[worker]! + 1;
    versions[worker]! += shape.batch;
    await pool.query({
      name: `raw-insert-${shape.batch}`,
      text,
      values: [
        `${ctx.runId}-raw-${shape.id}-w${worker}`,
        events.map((_, i) => first + i),
        events.map(() => randomUUID()),
        events.map((e) => e.type),
        events.map((e) => JSON.stringify(e.data)),
        new Date(),
        events.map((e) => JSON.stringify(e.metadata)),
      ],
    });
    return shape.batch;
  };
  return {
    kind: 'ceiling',
    label: CEILING_LABEL,
    runner: { run: (durationMs) => runTimed(durationMs, shape.concurrency, op), close: () => pool.end() },
  };
}

/**
 * Emmett's PostgreSQL event store on the same database (its own tables in the scratch database),
 * same events, same writers, exact expected stream version, on a pool of as many connections.
 */
function emmettReference(url: string, ctx: SuiteContext, shape: AppendShape): Reference {
  const pool = new pg.Pool({ connectionString: url, max: shape.concurrency });
  pool.on('error', () => {});
  const store = getPostgreSQLEventStore(url, { connectionOptions: { pool } });
  const events = benchEvents(shape.batch).map((e) => ({
    type: e.type,
    data: e.data as Record<string, unknown>,
    metadata: e.metadata,
  }));
  const versions = new Array<bigint>(shape.concurrency).fill(0n);
  const op = async (worker: number): Promise<number> => {
    const result = await store.appendToStream(`${ctx.runId}-emmett-${shape.id}-w${worker}`, events, {
      expectedStreamVersion: versions[worker]!,
    });
    versions[worker] = result.nextExpectedStreamVersion;
    return shape.batch;
  };
  return {
    kind: 'comparison',
    label: 'Emmett',
    runner: {
      run: (durationMs) => runTimed(durationMs, shape.concurrency, op),
      close: async () => {
        await store.close();
        await pool.end();
      },
    },
  };
}

/**
 * PostgreSQL, in a scratch database created for the run and dropped afterwards (Ordo's schema,
 * the raw-ceiling schema and Emmett's tables all live there). Targets: one connection ≥ 85% of the
 * raw ceiling, 16 connections ≥ 8,000 single-event appends/s, batch-10 on 16 connections
 * ≥ 35,000 events/s, reads ≥ 150,000 events/s, faster than Emmett on every append workload,
 * `streamVersion` flat.
 */
export async function runPostgresSuite(ctx: SuiteContext): Promise<SuiteOutcome> {
  const database = `ordo_bench_${ctx.runId}`.toLowerCase();
  const admin = new pg.Client({ connectionString: ctx.postgresUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
    const url = databaseUrl(ctx.postgresUrl, database);
    try {
      return await measure(url, ctx);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

async function measure(url: string, ctx: SuiteContext): Promise<SuiteOutcome> {
  const store = await openPostgresStore({ connectionString: url, poolSize: POOL_SIZE, schema: 'ordo' });
  const workloads: WorkloadResult[] = [];
  try {
    await migratePostgres({ connectionString: url, schema: RAW_SCHEMA });
    for (const shape of standardAppendShapes) {
      workloads.push(
        await measureAppends(store, ctx, shape, [
          rawCeiling(url, ctx, shape),
          emmettReference(url, ctx, shape),
        ]),
      );
      ctx.log(`${shape.id} done`);
    }
    workloads.push(await measureHotStream(store, ctx));
    workloads.push(...(await measureStreamVersion(store, ctx)));
    workloads.push(await measureReadAll(store, ctx));
  } finally {
    await store.close();
  }
  requireCeilingShare(byId(workloads, 'append-1-seq'), 0.85);
  requireAtLeast(byId(workloads, 'append-1-c16'), 8_000);
  requireAtLeast(byId(workloads, 'append-10-c16'), 35_000);
  requireAtLeast(byId(workloads, 'read-all'), 150_000);
  for (const shape of standardAppendShapes) requireFasterThanComparison(byId(workloads, shape.id));
  const server = await serverSettings(url).catch(() => ({}));
  return { workloads, settings: { poolSize: POOL_SIZE, ...server } };
}

/** Server settings that shape append figures (durability of commits). */
async function serverSettings(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = (
      await client.query<{ name: string; setting: string }>(
        "SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'synchronous_commit', 'fsync', 'max_connections')",
      )
    ).rows;
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  } finally {
    await client.end();
  }
}
