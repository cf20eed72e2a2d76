import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { migrateSqlite, openSqliteStore } from '../../src/backends/sqlite/index.js';
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
import { byId, requireAtLeast, requireCeilingShare } from '../targets.js';

const CEILING_LABEL = 'plain INSERT into the same table (better-sqlite3, WAL, synchronous=FULL)';

/**
 * Raw ceiling: the same `events` rows (same schema, indexes and pragmas, created by the backend's
 * own migrations in a scratch file) inserted with plain INSERTs, one transaction per append,
 * without the stream-version check and update.
 */
function rawCeiling(dir: string, ctx: SuiteContext, shape: AppendShape): Reference {
  const db = new BetterSqlite3(join(dir, `raw-${shape.id}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  migrateSqlite(db);
  const createStream = db.prepare(
    "INSERT INTO streams (namespace, stream_id, version) VALUES ('default', ?, 0)",
  );
  const keys = Array.from({ length: shape.concurrency }, (_, w) =>
    Number(createStream.run(`${ctx.runId}-raw-w${w}`).lastInsertRowid),
  );
  const insert = db.prepare(
    `INSERT INTO events (namespace, stream_key, stream_id, version, event_id, type, data, metadata, tags, timestamp)
     VALUES ('default', ?, ?, ?, ?, ?, ?, ?, '', ?)`,
  );
  const events = benchEvents(shape.batch);
  const versions = new Array<number>(shape.concurrency).fill(0);
  const insertBatch = db.transaction((worker: number) => {
    const now = Date.now();
    for (const event of events) {
      versions[worker]!++;
      insert.run(
        keys[worker],
        `${ctx.runId}-raw-w${worker}`,
        versions[worker],
        randomUUID(),
        event.type,
        JSON.stringify(event.data),
        JSON.stringify(event.metadata),
        now,
      );
    }
  });
  const op = async (worker: number): Promise<number> => {
    insertBatch(worker);
    return shape.batch;
  };
  return {
    kind: 'ceiling',
    label: CEILING_LABEL,
    runner: {
      run: (durationMs) => runTimed(durationMs, shape.concurrency, op),
      close: async () => {
        db.close();
      },
    },
  };
}

/**
 * SQLite (file in a scratch directory, WAL, synchronous=FULL as by default). Targets: single-event
 * appends ≥ 90% of the raw ceiling, batch-10 ≥ 30,000 events/s, reads ≥ 250,000 events/s,
 * `streamVersion` flat. The scratch directory is removed afterwards.
 */
export async function runSqliteSuite(ctx: SuiteContext): Promise<SuiteOutcome> {
  const dir = await mkdtemp(join(os.tmpdir(), 'ordo-bench-sqlite-'));
  try {
    const store = await openSqliteStore({ path: join(dir, 'ordo.db') });
    const workloads: WorkloadResult[] = [];
    try {
      for (const shape of standardAppendShapes) {
        workloads.push(await measureAppends(store, ctx, shape, [rawCeiling(dir, ctx, shape)]));
        ctx.log(`${shape.id} done`);
      }
      workloads.push(await measureHotStream(store, ctx));
      workloads.push(...(await measureStreamVersion(store, ctx)));
      workloads.push(await measureReadAll(store, ctx));
    } finally {
      await store.close();
    }
    requireCeilingShare(byId(workloads, 'append-1-seq'), 0.9);
    requireAtLeast(byId(workloads, 'append-10-seq'), 30_000);
    requireAtLeast(byId(workloads, 'read-all'), 250_000);
    return {
      workloads,
      settings: { journalMode: 'WAL', synchronous: 'FULL', filesystem: os.tmpdir() },
      notes: [
        'better-sqlite3 is synchronous: concurrent writers in one process take turns, so the 16-writer figures measure the same single writer with more interleaving.',
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
