import type { EventStore, Json } from '../../src/core/types.js';
import {
  type AnyProjection,
  createProjectionRegistry,
  defineProjection,
  MemoryProjectionStorage,
  type ProjectionRegistry,
} from '../../src/projections/index.js';

/** One order event as the fault tests write it: `n` is unique per event, so counts expose double application. */
export interface LedgerEvents {
  Deposited: { account: string; amount: number; n: number };
  Withdrawn: { account: string; amount: number; n: number };
  [type: string]: { account: string; amount: number; n: number };
}

/** Per account: balance, number of movements and the sequence numbers applied (a re-applied event shows twice). */
export interface AccountDoc {
  balance: number;
  movements: number;
  ns: number[];
  [key: string]: Json;
}

/**
 * A deliberately non-idempotent projection: applying an event twice changes the balance, the
 * movement count and the list of applied sequence numbers, so any duplicate or lost delivery
 * makes the read model differ from a clean rebuild.
 */
export function ledgerProjection(name = 'ledger', options: { pauseEvery?: number } = {}) {
  // A pause of ~1 ms every `pauseEvery` events keeps a catch-up long enough to be interrupted.
  const pause = async (n: number) => {
    if (options.pauseEvery && n % options.pauseEvery === 0)
      await new Promise((resolve) => setTimeout(resolve, 1));
  };
  return defineProjection<{ events: number; sum: number }, AccountDoc, LedgerEvents>({
    name,
    version: 1,
    init: () => ({ events: 0, sum: 0 }),
    handlers: {
      Deposited: async (state, event, { docs }) => {
        await pause(event.data.n);
        const doc = (await docs.get(event.data.account)) ?? { balance: 0, movements: 0, ns: [] };
        docs.put(event.data.account, {
          balance: doc.balance + event.data.amount,
          movements: doc.movements + 1,
          ns: [...doc.ns, event.data.n],
        });
        return { events: state.events + 1, sum: state.sum + event.data.amount };
      },
      Withdrawn: async (state, event, { docs }) => {
        await pause(event.data.n);
        const doc = (await docs.get(event.data.account)) ?? { balance: 0, movements: 0, ns: [] };
        docs.put(event.data.account, {
          balance: doc.balance - event.data.amount,
          movements: doc.movements + 1,
          ns: [...doc.ns, event.data.n],
        });
        return { events: state.events + 1, sum: state.sum - event.data.amount };
      },
    },
  });
}

/** The `n`-th ledger event (deterministic, so every process can produce the same one). */
export function ledgerEvent(n: number, accounts = 5) {
  const account = `acc-${n % accounts}`;
  const type = n % 3 === 2 ? 'Withdrawn' : 'Deposited';
  return { id: `ledger-${n}`, type, data: { account, amount: (n % 7) + 1, n } };
}

/** Everything a read model holds: state and all documents in id order. */
export interface ReadModel {
  state: Json;
  documents: Array<{ id: string; doc: Json }>;
}

/** Reads a projection's whole live read model through a registry. */
export async function readModel(registry: ProjectionRegistry, name: string): Promise<ReadModel> {
  const documents: Array<{ id: string; doc: Json }> = [];
  for (let after: string | undefined; ; ) {
    const page = await registry
      .documents(name)
      .find({ limit: 1_000, ...(after === undefined ? {} : { after }) });
    documents.push(...page);
    if (page.length < 1_000) break;
    after = page[page.length - 1]!.id;
  }
  return { state: await registry.state(name), documents };
}

/**
 * Builds the projection from scratch in memory storage over the same events: the reference a
 * resumed or fault-affected read model must equal.
 */
export async function cleanRebuild(store: EventStore, projection: AnyProjection): Promise<ReadModel> {
  const registry = createProjectionRegistry({
    store,
    projections: [projection],
    storage: new MemoryProjectionStorage(),
    batchSize: 500,
  });
  await registry.start();
  try {
    await registry.waitForCatchUp({ timeoutMs: 30_000 });
    return await readModel(registry, projection.name);
  } finally {
    await registry.stop();
  }
}

/** Polls `condition` every 20 ms until it holds; throws after `timeoutMs` naming `what`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
