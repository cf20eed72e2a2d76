/**
 * Worker of `runKilledWriterRace`: appends batches to a few shared streams until it is killed,
 * printing `ack <batchId>` after each acknowledged append. Every event carries its batch id,
 * its index in the batch and the batch size, so a torn batch is visible in the store.
 * argv: url namespace workerIndex batchSize streams
 */
import { openStore } from '../../open-store.js';

const [url, namespace, workerArg, sizeArg, streamsArg] = process.argv.slice(2);
const worker = Number(workerArg);
const size = Number(sizeArg);
const streams = Number(streamsArg);

const store = await openStore(url!, { namespace: namespace! });
process.stdout.write('ready\n');
for (let batch = 0; ; batch++) {
  const batchId = `w${worker}-b${batch}`;
  const events = Array.from({ length: size }, (_, index) => ({
    type: 'Chunk',
    data: { batchId, index, size, padding: 'x'.repeat(100) },
    tags: [`batch:${batchId}`],
  }));
  await store.append(`torn-${batch % streams}`, events);
  process.stdout.write(`ack ${batchId}\n`);
}
