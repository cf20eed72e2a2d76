import { randomUUID } from 'node:crypto';
import {
  createMachineRepository,
  createStateIndex,
  createTimeoutProcessor,
  type EventStore,
  InvalidTransitionError,
} from '../../src/index.js';
import { fakeOrderDeps, manualClock } from './order-deps.js';
import { orderMachine } from './order-machine.js';
import type { OrderLine } from './order-model.js';

/** What the demo did, for its caller (and its test) to check. */
export interface OrderDemoResult {
  /** Demo name → order id. */
  ids: Record<'shipped' | 'cancelled' | 'retried' | 'expired', string>;
  /** Demo name → final state type. */
  states: Record<string, string>;
  /** Ids the index lists as cancelled by the payment timeout. */
  timedOut: string[];
  timeoutsFired: number;
  refusedShipping: boolean;
}

const lines: OrderLine[] = [{ sku: 'book', quantity: 1, price: 2000 }];

/**
 * Runs the order domain end to end on `store`: four orders take the happy path, a cancellation,
 * a declined payment with a retry, and a payment timeout fired by the timeout processor.
 */
export async function runOrderDemo(
  store: EventStore,
  log: (line: string) => void = () => {},
): Promise<OrderDemoResult> {
  const clock = manualClock();
  const deps = fakeOrderDeps(clock);
  const repository = createMachineRepository({ store, machine: orderMachine, deps });
  const index = createStateIndex({ store, machine: orderMachine });
  const run = randomUUID().slice(0, 8);
  const ids = { shipped: `${run}-1`, cancelled: `${run}-2`, retried: `${run}-3`, expired: `${run}-4` };

  const step = async (id: string, command: Parameters<typeof repository.handle>[1]) => {
    const result = await repository.handle(id, command);
    log(
      `${id}: ${command.type.padEnd(13)} ${result.previousState.type} → ${result.state.type} (v${result.version})`,
    );
    return result;
  };
  for (const [name, id] of Object.entries(ids))
    await step(id, { type: 'Place', orderId: id, customer: name, lines });

  await step(ids.shipped, { type: 'Checkout' });
  await step(ids.shipped, { type: 'Pay', cardToken: 'visa' });
  await step(ids.shipped, { type: 'Ship' });

  await step(ids.cancelled, { type: 'Cancel' });

  await step(ids.retried, { type: 'Checkout' });
  const declined = await step(ids.retried, { type: 'Pay', cardToken: 'declined-once' });
  if (declined.state.type === 'PaymentFailed')
    log(`${ids.retried}: failed because ${declined.state.reason}; retrying the kept command`);
  let refusedShipping = false;
  try {
    await step(ids.retried, { type: 'Ship' });
  } catch (error) {
    if (!(error instanceof InvalidTransitionError)) throw error;
    refusedShipping = true;
    log(`${ids.retried}: refused: ${error.message}`);
  }
  await step(ids.retried, { type: 'RetryPayment' });

  await step(ids.expired, { type: 'Checkout' });
  clock.advance(deps.paymentWindowMs + 60_000);
  const processor = createTimeoutProcessor({
    repository,
    index,
    timeouts: [
      { state: 'AwaitingPayment', field: 'paymentDueAt', command: () => ({ type: 'ExpirePayment' }) },
    ],
    now: clock.now,
  });
  const tick = await processor.tick();
  await processor.stop();
  log(`timeout processor fired ${tick.fired} payment timeout(s)`);

  await index.refresh();
  const timedOut = (await index.find({ state: 'Cancelled', where: { reason: 'payment-timeout' } })).items
    .map((e) => e.id)
    .filter((id) => id.startsWith(run));
  const states: Record<string, string> = {};
  for (const [name, id] of Object.entries(ids)) states[name] = (await repository.load(id)).state.type;
  for (const transition of await repository.history(ids.retried)) {
    log(
      `history ${ids.retried} v${transition.version}: ${transition.from.type} --${transition.command.type}--> ${transition.to.type}`,
    );
  }
  await index.close();
  return { ids, states, timedOut, timeoutsFired: tick.fired, refusedShipping };
}
