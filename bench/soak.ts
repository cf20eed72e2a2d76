/**
 * Soak test (not part of CI): `npx tsx bench/soak.ts [--minutes 10] [--backend sqlite|postgres|nats|memory]`.
 *
 * Runs a mixed load on one store for the given time: deciders appending through `handleCommand`
 * on a few hot streams (so version conflicts and retries are constant), readers (stream and
 * global reads), a live subscription and an async projection. Every few seconds it samples RSS,
 * heap, throughput, conflicts, errors and projection/subscription lag. At the end it checks the
 * subscription saw every event exactly once in order and the projection equals a clean rebuild,
 * and writes everything to `bench/results/soak.json` (one entry per backend, earlier runs kept).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Command } from 'commander';
import { handleCommand } from '../src/core/handle-command.js';
import { comparePositions, START } from '../src/core/position.js';
import type { EventStore, Position, RecordedEvent } from '../src/core/types.js';
import { openStore } from '../src/open-store.js';
import { createProjectionRegistry, defineProjection } from '../src/projections/index.js';
import { cleanRebuild, readModel } from '../test/reliability/read-model.js';

const program = new Command()
  .option('--minutes <n>', 'duration in minutes', '10')
  .option('--backend <name>', 'memory | sqlite | postgres | nats', 'sqlite')
  .option('--url <url>', 'store URL (overrides --backend)')
  .option('--deciders <n>', 'concurrent handleCommand loops', '8')
  .option('--accounts <n>', 'hot streams the deciders share', '16')
  .option('--sample-seconds <n>', 'seconds between samples', '5')
  .option('--out <file>', 'result file', 'bench/results/soak.json')
  .parse();
const opts = program.opts<{
  minutes: string;
  backend: string;
  url?: string;
  deciders: string;
  accounts: string;
  sampleSeconds: string;
  out: string;
}>();
const minutes = Number(opts.minutes);
const deciders = Number(opts.deciders);
const accounts = Number(opts.accounts);
const sampleMs = Number(opts.sampleSeconds) * 1_000;
if (!(minutes > 0) || !(deciders > 0) || !(accounts > 0) || !(sampleMs > 0)) {
  throw new Error('--minutes, --deciders, --accounts and --sample-seconds must be positive numbers');
}

const scratch = mkdtempSync(join(os.tmpdir(), 'ordo-soak-'));
const suffix = randomUUID().slice(0, 8);
const postgresBase = process.env.ORDO_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const natsBase = process.env.ORDO_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
function storeUrl(): string {
  if (opts.url) return opts.url;
  switch (opts.backend) {
    case 'memory':
      return 'memory:';
    case 'sqlite':
      return `sqlite:${join(scratch, 'soak.db')}`;
    case 'postgres':
      return `${postgresBase}?schema=ordo_soak_${suffix}`;
    case 'nats':
      return `${natsBase}?stream=soak-${suffix}`;
    default:
      throw new Error(`unknown backend ${opts.backend}`);
  }
}

type Movement = { account: string; amount: number };
type Events = { Deposited: Movement; Withdrawn: Movement; [type: string]: Movement };

/** Balances per account; a rejected withdrawal writes nothing, so balances never go negative. */
const balances = defineProjection<{ events: number }, { balance: number; movements: number }, Events>({
  name: 'soak-balances',
  version: 1,
  init: () => ({ events: 0 }),
  handlers: {
    Deposited: async (state, event, { docs }) => {
      const doc = (await docs.get(event.data.account)) ?? { balance: 0, movements: 0 };
      docs.put(event.data.account, {
        balance: doc.balance + event.data.amount,
        movements: doc.movements + 1,
      });
      return { events: state.events + 1 };
    },
    Withdrawn: async (state, event, { docs }) => {
      const doc = (await docs.get(event.data.account)) ?? { balance: 0, movements: 0 };
      docs.put(event.data.account, {
        balance: doc.balance - event.data.amount,
        movements: doc.movements + 1,
      });
      return { events: state.events + 1 };
    },
  },
});

type AccountCommand = { kind: 'deposit' | 'withdraw'; amount: number };
const account = {
  initialState: () => ({ balance: 0 }),
  evolve: (state: { balance: number }, event: RecordedEvent) => {
    const { amount } = event.data as unknown as Movement;
    return { balance: state.balance + (event.type === 'Deposited' ? amount : -amount) };
  },
  // Async on purpose: a decision that waits (as real ones that consult a service do) lets other
  // deciders append to the same stream in between, so conflicts and retries happen on every backend.
  decide: async (command: AccountCommand, state: { balance: number }, accountId: string) => {
    await yieldToEventLoop();
    if (command.kind === 'withdraw' && state.balance < command.amount) return [];
    return [
      {
        type: command.kind === 'deposit' ? 'Deposited' : 'Withdrawn',
        data: { account: accountId, amount: command.amount },
      },
    ];
  },
};

const counters = {
  commands: 0,
  appended: 0,
  rejectedWithdrawals: 0,
  retries: 0,
  reads: 0,
  errors: new Map<string, number>(),
};
function countError(error: unknown): void {
  const code = String((error as { code?: unknown })?.code ?? (error as Error)?.name ?? 'unknown');
  counters.errors.set(code, (counters.errors.get(code) ?? 0) + 1);
}

const url = storeUrl();
const store: EventStore = await openStore(url, { namespace: `soak${suffix}` });
const registry = createProjectionRegistry({ store, projections: [balances], batchSize: 500 });
await registry.start();

// Live subscription: checks global order and exactly-once delivery as it goes.
let delivered = 0;
let orderViolations = 0;
let lastPosition: Position = START;
const subscription = store.subscribe(
  {
    onError: (error) => {
      countError(error);
    },
  },
  (event) => {
    if (comparePositions(event.position, lastPosition) <= 0) orderViolations++;
    lastPosition = event.position;
    delivered++;
  },
);

let running = true;
const deadline = Date.now() + minutes * 60_000;
const loops: Promise<void>[] = [];
for (let d = 0; d < deciders; d++) {
  loops.push(
    (async () => {
      while (running) {
        const accountId = `account-${Math.floor(Math.random() * accounts)}`;
        const command: AccountCommand = {
          kind: Math.random() < 0.55 ? 'deposit' : 'withdraw',
          amount: 1 + Math.floor(Math.random() * 50),
        };
        try {
          const outcome = await handleCommand(
            store,
            accountId,
            {
              initialState: account.initialState,
              evolve: account.evolve,
              decide: (c: AccountCommand, s) => account.decide(c, s, accountId),
            },
            command,
            // Snapshots are only read back when they carry a schema name.
            { maxAttempts: 50, snapshot: { every: 200, schema: 'account-v1' } },
          );
          counters.commands++;
          counters.retries += outcome.attempts - 1;
          if (outcome.result) counters.appended += outcome.events.length;
          else counters.rejectedWithdrawals++;
        } catch (error) {
          countError(error);
        }
        // Embedded backends can answer without I/O: let timers (sampling, polling) run.
        await yieldToEventLoop();
      }
    })(),
  );
}
for (let r = 0; r < 2; r++) {
  loops.push(
    (async () => {
      while (running) {
        try {
          if (Math.random() < 0.5)
            await store.readStream(`account-${Math.floor(Math.random() * accounts)}`, {
              direction: 'backwards',
              limit: 50,
            });
          else await store.readAll({ after: lastPosition, limit: 100 });
          counters.reads++;
        } catch (error) {
          countError(error);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })(),
  );
}

interface Sample {
  atSeconds: number;
  rssMiB: number;
  heapUsedMiB: number;
  commandsPerSecond: number;
  appendedEvents: number;
  retries: number;
  reads: number;
  errors: number;
  projectionLagEvents: number;
  projectionLagMs: number;
  projectionState: string;
  subscriptionLagEvents: number;
}
const samples: Sample[] = [];
const started = Date.now();
let lastCommands = 0;
let lastSampleAt = started;
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
while (Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, Math.min(sampleMs, Math.max(0, deadline - Date.now()))));
  const now = Date.now();
  const memory = process.memoryUsage();
  const status = await registry.status('soak-balances').catch((error: unknown) => {
    countError(error);
    return undefined;
  });
  const sample: Sample = {
    atSeconds: Math.round((now - started) / 1_000),
    rssMiB: mib(memory.rss),
    heapUsedMiB: mib(memory.heapUsed),
    commandsPerSecond: Math.round(
      ((counters.commands - lastCommands) * 1_000) / Math.max(1, now - lastSampleAt),
    ),
    appendedEvents: counters.appended,
    retries: counters.retries,
    reads: counters.reads,
    errors: [...counters.errors.values()].reduce((a, b) => a + b, 0),
    projectionLagEvents: status?.lagEvents ?? -1,
    projectionLagMs: status?.lagMs ?? -1,
    projectionState: status?.state ?? 'unknown',
    subscriptionLagEvents: counters.appended - delivered,
  };
  samples.push(sample);
  lastCommands = counters.commands;
  lastSampleAt = now;
  console.log(JSON.stringify(sample));
}

running = false;
await Promise.all(loops);
// Final checks: the projection and the subscription must account for every stored event.
await registry.waitForCatchUp({ timeoutMs: 60_000 });
const stored: RecordedEvent[] = [];
for (let after: Position | undefined; ; ) {
  const page = await store.readAll({ limit: 5_000, ...(after ? { after } : {}) });
  stored.push(...page);
  if (page.length < 5_000) break;
  after = page[page.length - 1]!.position;
}
const subscriptionDeadline = Date.now() + 30_000;
while (delivered < stored.length && Date.now() < subscriptionDeadline)
  await new Promise((resolve) => setTimeout(resolve, 50));
await subscription.close();
const live = await readModel(registry, 'soak-balances');
const clean = await cleanRebuild(store, balances);
const negative = live.documents.filter((d) => (d.doc as { balance: number }).balance < 0).length;
await registry.stop();
await store.close();
rmSync(scratch, { recursive: true, force: true });
if (!opts.url && opts.backend === 'postgres') {
  // The soak's scratch schema would otherwise stay in the shared database.
  const { dropScratchSchema } = await import('../test/reliability/postgres-faults.js');
  await dropScratchSchema(postgresBase, `ordo_soak_${suffix}`);
}
if (!opts.url && opts.backend === 'nats') {
  const { deleteStreams, natsServer } = await import('../test/nats/nats-helpers.js');
  await deleteStreams(`soak-${suffix}`, natsServer(natsBase));
}

const first = samples[0];
const last = samples[samples.length - 1];
const summary = {
  commands: counters.commands,
  appendedEvents: counters.appended,
  storedEvents: stored.length,
  rejectedWithdrawals: counters.rejectedWithdrawals,
  conflictRetries: counters.retries,
  reads: counters.reads,
  errors: Object.fromEntries(counters.errors),
  subscriptionDelivered: delivered,
  subscriptionOrderViolations: orderViolations,
  subscriptionExactlyOnce: delivered === stored.length && orderViolations === 0,
  projectionEqualsCleanRebuild: JSON.stringify(live) === JSON.stringify(clean),
  negativeBalances: negative,
  rssMiB: { first: first?.rssMiB, last: last?.rssMiB, max: Math.max(...samples.map((s) => s.rssMiB)) },
  heapUsedMiB: {
    first: first?.heapUsedMiB,
    last: last?.heapUsedMiB,
    max: Math.max(...samples.map((s) => s.heapUsedMiB)),
  },
  maxProjectionLagEvents: Math.max(...samples.map((s) => s.projectionLagEvents)),
  maxProjectionLagMs: Math.max(...samples.map((s) => s.projectionLagMs)),
  maxSubscriptionLagEvents: Math.max(...samples.map((s) => s.subscriptionLagEvents)),
};
const result = {
  date: new Date().toISOString(),
  backend: opts.url ? 'custom' : opts.backend,
  minutes,
  config: { deciders, accounts, readers: 2, sampleSeconds: sampleMs / 1_000, snapshotEvery: 200 },
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadAverage: os.loadavg()[0],
  },
  summary,
  samples,
};
// One entry per backend: a run on another backend keeps the earlier ones.
const previous = existsSync(opts.out)
  ? (JSON.parse(readFileSync(opts.out, 'utf8')) as { runs?: Record<string, unknown> })
  : {};
const runs = { ...(previous.runs ?? {}), [result.backend]: result };
writeFileSync(opts.out, `${JSON.stringify({ runs }, null, 2)}\n`);
console.log(JSON.stringify(summary, null, 2));
const ok =
  summary.storedEvents === summary.appendedEvents &&
  summary.subscriptionExactlyOnce &&
  summary.projectionEqualsCleanRebuild &&
  summary.negativeBalances === 0;
console.log(ok ? `soak passed; wrote ${opts.out}` : `soak FAILED; wrote ${opts.out}`);
if (!ok) process.exitCode = 1;
