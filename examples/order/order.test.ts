import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createInMemoryStore } from '../../src/index.js';
import { orderSuite } from './order-cases.js';
import { runOrderDemo } from './order-demo.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const diagramFile = path.join(here, 'order-machine.md');
const title = 'Order state machine';

describe('order machine', () => {
  for (const c of orderSuite.cases) it(c.name, () => c.run());

  // Runs after the cases above (tests of a file run in order): the diagram shows what they covered.
  it('order-machine.md shows the transitions the cases cover (ORDO_UPDATE_DIAGRAMS=1 rewrites it)', () => {
    const diagram = orderSuite.markdown(title);
    if (process.env.ORDO_UPDATE_DIAGRAMS === '1') writeFileSync(diagramFile, diagram);
    expect(readFileSync(diagramFile, 'utf8')).toBe(diagram);
    for (const edge of [
      'AwaitingPayment --> Cancelled: ExpirePayment',
      'PaymentFailed --> Paid: RetryPayment',
      'Paid --> Shipped: Ship',
    ]) {
      expect(diagram).toContain(edge);
    }
  });
});

describe('order example end to end', () => {
  it('ships, cancels, retries a declined payment and expires an unpaid order', async () => {
    const store = createInMemoryStore();
    const lines: string[] = [];
    const result = await runOrderDemo(store, (line) => lines.push(line));
    expect(result.states).toEqual({
      shipped: 'Shipped',
      cancelled: 'Cancelled',
      retried: 'Paid',
      expired: 'Cancelled',
    });
    expect(result.timedOut).toEqual([result.ids.expired]);
    expect(result.timeoutsFired).toBe(1);
    expect(result.refusedShipping).toBe(true);
    expect(lines.some((l) => l.includes('PaymentFailed → Paid'))).toBe(true);
    await store.close();
  });
});

describe('examples/order/main.ts', () => {
  it('runs with one command and prints the final states', () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', path.join(here, 'main.ts')], {
      encoding: 'utf8',
      env: { ...process.env, ORDO_STORE: 'memory:' },
      timeout: 30_000,
    });
    expect(output).toContain('order example on memory:');
    expect(output).toMatch(/shipped: 'Shipped'[\s\S]*retried: 'Paid'[\s\S]*expired: 'Cancelled'/);
  });
});
