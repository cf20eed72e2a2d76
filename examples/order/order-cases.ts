import { createMachineTestSuite } from '../../src/index.js';
import { fakeOrderDeps, manualClock } from './order-deps.js';
import { orderMachine } from './order-machine.js';
import type { OrderCommand, OrderState } from './order-model.js';

const T0 = '2026-01-01T10:00:00.000Z';
const lines = [
  { sku: 'book', quantity: 2, price: 1500 },
  { sku: 'pen', quantity: 1, price: 250 },
];
const place: OrderCommand = { type: 'Place', orderId: 'o-1', customer: 'ann', lines };
const data = { orderId: 'o-1', customer: 'ann', lines, total: 3250 };
const pending: OrderState = { type: 'Pending', ...data, placedAt: T0 };
const awaiting: OrderState = {
  type: 'AwaitingPayment',
  ...data,
  placedAt: T0,
  paymentDueAt: '2026-01-01T10:15:00.000Z',
};
const overdue: OrderState = { ...awaiting, paymentDueAt: '2026-01-01T09:59:59.999Z' };

/**
 * The order machine's behaviour as given/when/then cases. Each case runs with fresh fake deps
 * whose clock stands still at 10:00; `order-machine.md` is drawn from the transitions they cover.
 */
export const orderSuite = createMachineTestSuite(orderMachine, {
  deps: () => fakeOrderDeps(manualClock(T0)),
});

orderSuite.case('an order is placed, paid and shipped', (c) =>
  c
    .when(place)
    .thenState(pending)
    .when({ type: 'Checkout' })
    .thenState(awaiting)
    .when({ type: 'Ship' })
    .thenError()
    .when({ type: 'Pay', cardToken: 'visa' })
    .thenState({ type: 'Paid', ...data, paymentId: 'pay-1', paidAt: T0 })
    .when({ type: 'Cancel' })
    .thenError()
    .when({ type: 'Ship' })
    .thenState({ type: 'Shipped', ...data, paymentId: 'pay-1', trackingNumber: 'TRACK-o-1', shippedAt: T0 })
    .when({ type: 'Ship' })
    .thenError(),
);

orderSuite.case('an order cannot be placed twice or empty', (c) =>
  c
    .when({ ...place, lines: [] })
    .thenError((e) => {
      if (!(e instanceof Error) || !/at least one line/.test(e.message))
        throw new Error(`unexpected ${String(e)}`);
    })
    .when(place)
    .thenState(pending)
    .when(place)
    .thenError(),
);

orderSuite.case('the customer cancels before paying', (c) =>
  c
    .given(pending)
    .when({ type: 'Cancel' })
    .thenState({ type: 'Cancelled', ...data, reason: 'customer', cancelledAt: T0 }),
);

orderSuite.case('the customer cancels while payment is awaited', (c) =>
  c
    .given(awaiting)
    .when({ type: 'Cancel' })
    .thenState({ type: 'Cancelled', ...data, reason: 'customer', cancelledAt: T0 }),
);

orderSuite.case('a declined payment keeps the command and state, and a retry replays it', (c) =>
  c
    .given(awaiting)
    .when({ type: 'RetryPayment' })
    .thenError()
    .when({ type: 'Pay', cardToken: 'declined-once' })
    .thenState({
      type: 'PaymentFailed',
      orderId: 'o-1',
      reason: 'card declined',
      failedAt: T0,
      attempts: 1,
      failedCommand: { type: 'Pay', cardToken: 'declined-once' },
      previousState: awaiting,
    })
    .when({ type: 'Ship' })
    .thenError()
    .fork('the retry succeeds', (f) =>
      f.when({ type: 'RetryPayment' }).thenState({ type: 'Paid', ...data, paymentId: 'pay-1', paidAt: T0 }),
    )
    .fork('the customer gives up', (f) =>
      f
        .when({ type: 'Cancel' })
        .thenState({ type: 'Cancelled', ...data, reason: 'customer', cancelledAt: T0 }),
    ),
);

orderSuite.case('retries stop after the attempt limit', (c) =>
  c
    .given(awaiting)
    .when({ type: 'Pay', cardToken: 'declined' })
    .thenState((s) => expectAttempts(s, 1))
    .when({ type: 'RetryPayment' })
    .thenState((s) => expectAttempts(s, 2))
    .when({ type: 'RetryPayment' })
    .thenState((s) => expectAttempts(s, 3))
    .when({ type: 'RetryPayment' })
    .thenError(),
);

orderSuite.case('an unpaid order is cancelled when its payment deadline passes', (c) =>
  c
    .given(overdue)
    .when({ type: 'Pay', cardToken: 'visa' })
    .thenError()
    .when({ type: 'ExpirePayment' })
    .thenState({ type: 'Cancelled', ...data, reason: 'payment-timeout', cancelledAt: T0 })
    .when({ type: 'ExpirePayment' })
    .thenError(),
);

orderSuite.case('the payment timeout does not fire early', (c) =>
  c.given(awaiting).when({ type: 'ExpirePayment' }).thenError(),
);

function expectAttempts(state: OrderState, attempts: number): void {
  if (state.type !== 'PaymentFailed' || state.attempts !== attempts) {
    throw new Error(`expected PaymentFailed after ${attempts} attempt(s), got ${JSON.stringify(state)}`);
  }
}
