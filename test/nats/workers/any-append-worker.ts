/**
 * Worker of the NATS hot-stream race: after `go` on stdin, appends `count` single-event commits
 * with expectedVersion 'any' (and one condition-guarded append) to one stream and prints one JSON
 * line with the versions it was given.
 * argv: url namespace streamId count workerIndex
 */
import { isAppendConditionFailure } from '../../../src/core/errors.js';
import { openStore } from '../../../src/open-store.js';

const [url, namespace, streamId, countArg, workerArg] = process.argv.slice(2);
const count = Number(countArg);
const worker = Number(workerArg);

const store = await openStore(url!, { namespace: namespace! });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));

const versions: number[] = [];
for (let i = 0; i < count; i++) {
  const result = await store.append(streamId!, [{ type: 'Hot', data: { worker, i }, id: `w${worker}-${i}` }]);
  versions.push(result.firstVersion);
}
// Every worker tries to claim the same unique tag: the condition must let exactly one through.
let claimed = false;
try {
  await store.append(
    `${streamId}-claim-${worker}`,
    [{ type: 'Claimed', data: { worker }, tags: ['claim'] }],
    {
      condition: { failIfEventsMatch: { types: ['Claimed'], tags: ['claim'] } },
    },
  );
  claimed = true;
} catch (error) {
  if (!isAppendConditionFailure(error)) throw error;
}
await store.close();
process.stdout.write(`${JSON.stringify({ worker, versions, claimed })}\n`);
process.stdin.destroy();
