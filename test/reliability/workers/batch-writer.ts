/**
 * Worker for the kill tests: appends batches of `batchSize` events (each event carries its batch id
 * and size) to its own streams until killed, printing `ack <batchId> <streamId> <lastVersion>` after
 * every acknowledged append. It stops after `maxBatches` batches or when a `stop` line arrives on
 * stdin, then closes the store and prints `done`; any failed append ends the process with a
 * non-zero code.
 * argv: url namespace writerIndex batchSize [maxBatches]
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { openStore } from '../../../src/open-store.js';

const [url, namespace, writerArg, sizeArg, maxArg] = process.argv.slice(2);
const maxBatches = maxArg === undefined ? Number.POSITIVE_INFINITY : Number(maxArg);
const writer = Number(writerArg);
const batchSize = Number(sizeArg);
const store = await openStore(url!, { namespace: namespace! });
let stopRequested = false;
process.stdin.on('data', (chunk: Buffer) => {
  if (chunk.toString().includes('stop')) stopRequested = true;
});
process.stdout.write('ready\n');
for (let batch = 0; batch < maxBatches && !stopRequested; batch++) {
  const streamId = `kill-${writer}-${batch % 3}`;
  const batchId = `w${writer}-b${batch}`;
  const events = Array.from({ length: batchSize }, (_, i) => ({
    id: `${batchId}-${i}`,
    type: 'Chunk',
    data: { batchId, index: i, size: batchSize, padding: 'x'.repeat(200) },
    tags: [`writer:${writer}`],
  }));
  const result = await store.append(streamId, events);
  process.stdout.write(`ack ${batchId} ${streamId} ${result.lastVersion}\n`);
  // SQLite answers without I/O: yield so the `stop` request on stdin can be read.
  await yieldToEventLoop();
}
await store.close();
process.stdout.write('done\n');
process.stdin.destroy();
