import type { ChargeResult, OrderDeps } from './order-model.js';

/** A controllable clock for tests and the demo. */
export interface ManualClock {
  now(): Date;
  advance(ms: number): void;
}

/** A clock starting at `start` that only moves when told to. */
export function manualClock(start = '2026-01-01T10:00:00.000Z'): ManualClock {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    advance: (ms) => {
      current += ms;
    },
  };
}

/**
 * In-process deps for the demo and tests: a card token starting with `declined` is refused
 * (`declined-once` only on its first use), every other token is charged.
 */
export function fakeOrderDeps(
  clock: ManualClock = manualClock(),
  overrides: Partial<OrderDeps> = {},
): OrderDeps {
  const seen = new Set<string>();
  let payments = 0;
  return {
    now: clock.now,
    paymentWindowMs: 15 * 60_000,
    maxPaymentAttempts: 3,
    async charge(orderId, _amount, cardToken): Promise<ChargeResult> {
      const key = `${orderId}:${cardToken}`;
      const firstUse = !seen.has(key);
      seen.add(key);
      if (cardToken === 'declined' || (cardToken === 'declined-once' && firstUse))
        return { ok: false, reason: 'card declined' };
      payments += 1;
      return { ok: true, paymentId: `pay-${payments}` };
    },
    trackingNumber: (orderId) => `TRACK-${orderId}`,
    ...overrides,
  };
}
