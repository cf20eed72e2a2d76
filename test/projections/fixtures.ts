import { defineProjection } from '../../src/projections/index.js';

/** Order totals per customer (documents) and a global count (state). */
export interface OrderEvents {
  OrderPlaced: { orderId: string; customer: string; total: number };
  OrderCancelled: { orderId: string; customer: string; total: number };
  [type: string]: { orderId: string; customer: string; total: number };
}

export interface CustomerDoc {
  customer: string;
  orders: number;
  total: number;
  [key: string]: string | number;
}

export function customerTotals(version = 1, options: { failOn?: string; onError?: 'stop' | 'park' } = {}) {
  return defineProjection<{ count: number }, CustomerDoc, OrderEvents>({
    name: 'customer-totals',
    version,
    init: () => ({ count: 0 }),
    ...(options.onError ? { onError: options.onError } : {}),
    handlers: {
      OrderPlaced: async (state, event, { docs }) => {
        if (event.data.orderId === options.failOn) throw new Error(`bad order ${event.data.orderId}`);
        const doc = (await docs.get(event.data.customer)) ?? {
          customer: event.data.customer,
          orders: 0,
          total: 0,
        };
        docs.put(event.data.customer, {
          ...doc,
          orders: doc.orders + 1,
          total: doc.total + event.data.total * version,
        });
        return { count: state.count + 1 };
      },
      OrderCancelled: async (state, event, { docs }) => {
        const doc = await docs.get(event.data.customer);
        if (doc)
          docs.put(event.data.customer, {
            ...doc,
            orders: doc.orders - 1,
            total: doc.total - event.data.total * version,
          });
        return { count: state.count - 1 };
      },
    },
  });
}

export function placed(orderId: string, customer: string, total: number) {
  return { type: 'OrderPlaced', data: { orderId, customer, total } };
}
export function cancelled(orderId: string, customer: string, total: number) {
  return { type: 'OrderCancelled', data: { orderId, customer, total } };
}
