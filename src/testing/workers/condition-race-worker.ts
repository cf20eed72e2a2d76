/**
 * Worker of the conformance suite's condition race: after `go` on stdin, tries to claim each of
 * `resources` resources by appending a `Claimed` event to its own stream under the condition that
 * no claim of that resource exists yet, and prints one JSON line with the resources it won.
 * argv: url namespace resources workerIndex
 */
import { isAppendConditionFailure } from '../../core/errors.js';
import { openStore } from '../../open-store.js';

const [url, namespace, resourcesArg, workerArg] = process.argv.slice(2);
const resources = Number(resourcesArg);
const worker = Number(workerArg);

const store = await openStore(url!, { namespace: namespace! });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));

const won: number[] = [];
for (let resource = 0; resource < resources; resource++) {
  try {
    await store.append(
      `claimer-${worker}`,
      [{ type: 'Claimed', data: { worker, resource }, tags: [`resource:${resource}`] }],
      { condition: { failIfEventsMatch: { types: ['Claimed'], tags: [`resource:${resource}`] } } },
    );
    won.push(resource);
  } catch (error) {
    if (!isAppendConditionFailure(error)) throw error;
  }
}
await store.close();
process.stdout.write(`${JSON.stringify({ worker, won })}\n`);
process.stdin.destroy();
