import { defineMachine, match } from '../../src/index.js';
import type { OrderCommand, OrderDeps, OrderState } from './order-model.js';

type Variant<K extends OrderState['type']> = Extract<OrderState, { type: K }>;

/**
 * The order machine: New → Pending → AwaitingPayment → Paid → Shipped, with cancellation while
 * unpaid, a payment deadline (ExpirePayment, fired by the timeout processor) and a payment
 * failure state that keeps the failed command and the state it was tried in, so RetryPayment
 * replays it.
 */
export const orderMachine = defineMachine<OrderDeps, OrderCommand, OrderState>({
  name: 'order',
  initial: { type: 'New' },
  transition: async (ctx, deps, command, state) =>
    match<OrderCommand, Promise<OrderState> | OrderState>(command, {
      Place: (c) => {
        if (state.type !== 'New') return ctx.invalid('the order was already placed');
        if (c.lines.length === 0) return ctx.invalid('an order needs at least one line');
        if (
          c.lines.some(
            (l) =>
              !Number.isInteger(l.quantity) || l.quantity < 1 || !Number.isInteger(l.price) || l.price < 0,
          )
        ) {
          return ctx.invalid('quantities must be positive integers and prices non-negative integers (cents)');
        }
        const total = c.lines.reduce((sum, l) => sum + l.quantity * l.price, 0);
        return {
          type: 'Pending',
          orderId: c.orderId,
          customer: c.customer,
          lines: c.lines,
          total,
          placedAt: deps.now().toISOString(),
        };
      },
      Checkout: () => {
        if (state.type !== 'Pending') return ctx.invalid();
        const { type: _, ...data } = state;
        return {
          ...data,
          type: 'AwaitingPayment',
          paymentDueAt: new Date(deps.now().getTime() + deps.paymentWindowMs).toISOString(),
        };
      },
      Pay: async (c) => {
        if (state.type !== 'AwaitingPayment') return ctx.invalid();
        if (deps.now().toISOString() >= state.paymentDueAt)
          return ctx.invalid('the payment deadline has passed');
        const charged = await deps.charge(state.orderId, state.total, c.cardToken);
        if (!charged.ok) return failed(state, c, charged.reason, deps);
        const { type: _, placedAt: __, paymentDueAt: ___, ...data } = state;
        return { ...data, type: 'Paid', paymentId: charged.paymentId, paidAt: deps.now().toISOString() };
      },
      RetryPayment: async () => {
        if (state.type !== 'PaymentFailed') return ctx.invalid('only a failed payment can be retried');
        if (state.attempts >= deps.maxPaymentAttempts)
          return ctx.invalid(`gave up after ${state.attempts} attempts`);
        const next = await ctx.replay(state.failedCommand, state.previousState);
        // A failure on replay counts as one more attempt of the same payment.
        return next.type === 'PaymentFailed' ? { ...next, attempts: state.attempts + 1 } : next;
      },
      Ship: () => {
        if (state.type !== 'Paid') return ctx.invalid('only paid orders ship');
        const { type: _, paidAt: __, ...data } = state;
        return {
          ...data,
          type: 'Shipped',
          trackingNumber: deps.trackingNumber(state.orderId),
          shippedAt: deps.now().toISOString(),
        };
      },
      Cancel: () => {
        if (state.type === 'PaymentFailed')
          return cancelled(ctx.invalid, state.previousState, 'customer', deps);
        if (state.type !== 'Pending' && state.type !== 'AwaitingPayment') return ctx.invalid();
        return cancelled(ctx.invalid, state, 'customer', deps);
      },
      ExpirePayment: () => {
        if (state.type !== 'AwaitingPayment') return ctx.invalid();
        if (deps.now().toISOString() < state.paymentDueAt) return ctx.invalid('the payment is not due yet');
        return cancelled(ctx.invalid, state, 'payment-timeout', deps);
      },
    }),
});

function failed(
  state: Variant<'AwaitingPayment'>,
  command: OrderCommand,
  reason: string,
  deps: OrderDeps,
): OrderState {
  return {
    type: 'PaymentFailed',
    orderId: state.orderId,
    reason,
    failedAt: deps.now().toISOString(),
    attempts: 1,
    failedCommand: command,
    previousState: state,
  };
}

function cancelled(
  invalid: (reason: string) => never,
  state: OrderState,
  reason: 'customer' | 'payment-timeout',
  deps: OrderDeps,
): OrderState {
  if (state.type !== 'Pending' && state.type !== 'AwaitingPayment')
    return invalid(`cannot cancel from ${state.type}`);
  const { orderId, customer, lines, total } = state;
  return {
    type: 'Cancelled',
    orderId,
    customer,
    lines,
    total,
    reason,
    cancelledAt: deps.now().toISOString(),
  };
}
