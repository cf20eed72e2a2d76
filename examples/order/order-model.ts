/** One line of an order. */
export interface OrderLine {
  sku: string;
  quantity: number;
  /** Unit price in cents. */
  price: number;
}

interface OrderData {
  orderId: string;
  customer: string;
  lines: OrderLine[];
  /** Total in cents. */
  total: number;
}

/** States of an order. Dates are ISO-8601 UTC strings so they stay JSON and sort chronologically. */
export type OrderState =
  | { type: 'New' }
  | ({ type: 'Pending'; placedAt: string } & OrderData)
  | ({ type: 'AwaitingPayment'; placedAt: string; paymentDueAt: string } & OrderData)
  | ({ type: 'Paid'; paymentId: string; paidAt: string } & OrderData)
  | ({ type: 'Shipped'; paymentId: string; trackingNumber: string; shippedAt: string } & OrderData)
  | ({ type: 'Cancelled'; reason: 'customer' | 'payment-timeout'; cancelledAt: string } & OrderData)
  | {
      type: 'PaymentFailed';
      orderId: string;
      reason: string;
      failedAt: string;
      attempts: number;
      /** What failed and where it was tried: the retry command replays exactly this. */
      failedCommand: OrderCommand;
      previousState: OrderState;
    };

/** Commands an order accepts (in some states). */
export type OrderCommand =
  | { type: 'Place'; orderId: string; customer: string; lines: OrderLine[] }
  | { type: 'Checkout' }
  | { type: 'Pay'; cardToken: string }
  | { type: 'RetryPayment' }
  | { type: 'Ship' }
  | { type: 'Cancel' }
  | { type: 'ExpirePayment' };

/** Result of charging a card. */
export type ChargeResult = { ok: true; paymentId: string } | { ok: false; reason: string };

/** Everything the order machine needs from the outside world, injected so transitions stay pure. */
export interface OrderDeps {
  now(): Date;
  /** How long a customer has to pay after checkout. */
  paymentWindowMs: number;
  /** Most payment attempts before an order stays failed until cancelled. */
  maxPaymentAttempts: number;
  charge(orderId: string, amount: number, cardToken: string): Promise<ChargeResult>;
  trackingNumber(orderId: string): string;
}
