/**
 * Worker of the conformance suite's subscription case: after `go` on stdin, appends `appends`
 * batches of 1..3 events to its own stream (and every third one to a shared stream), then prints
 * `done <count>` with the number of events it appended.
 * argv: url namespace workerIndex appends sharedStreamId
 */
import { openStore } from '../../open-store.js';

const [url, namespace, workerArg, appendsArg, shared] = process.argv.slice(2);
const worker = Number(workerArg);
const appends = Number(appendsArg);

const store = await openStore(url!, { namespace: namespace! });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));

let count = 0;
for (let i = 0; i < appends; i++) {
  const size = 1 + (i % 3);
  await store.append(
    `writer-${worker}`,
    Array.from({ length: size }, (_, index) => ({ type: 'Written', data: { worker, i, index } })),
  );
  count += size;
  if (i % 3 === 0) {
    await store.append(shared!, [{ type: 'Shared', data: { worker, i } }]);
    count += 1;
  }
}
await store.close();
process.stdout.write(`done ${count}\n`);
process.stdin.destroy();
