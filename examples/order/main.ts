// Runs the order example: `npx tsx examples/order/main.ts` (in memory), or on another store with
// `ORDO_STORE=sqlite:./.ordo/orders.db npx tsx examples/order/main.ts`.
import { openStore } from '../../src/index.js';
import { runOrderDemo } from './order-demo.js';

const url = process.env.ORDO_STORE ?? 'memory:';
const store = await openStore(url);
try {
  console.log(`order example on ${url}`);
  const result = await runOrderDemo(store, (line) => console.log(`  ${line}`));
  console.log('final states:', result.states);
  console.log('cancelled by payment timeout:', result.timedOut);
} finally {
  await store.close();
}
