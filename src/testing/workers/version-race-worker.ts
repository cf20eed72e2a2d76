/**
 * Worker of the conformance suite's version race: after `go` on stdin, tries to append one event
 * at every expected version `0..versions-1` of one stream and prints one JSON line listing the
 * versions it won and, for each lost one, the `currentVersion` the conflict reported.
 * argv: url namespace streamId versions workerIndex
 */
import { isVersionConflict } from '../../core/errors.js';
import { openStore } from '../../open-store.js';

const [url, namespace, streamId, versionsArg, workerArg] = process.argv.slice(2);
const versions = Number(versionsArg);
const worker = Number(workerArg);

const store = await openStore(url!, { namespace: namespace! });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));

const won: number[] = [];
const lost: Array<{ expected: number; current: number }> = [];
for (let expected = 0; expected < versions; expected++) {
  try {
    const result = await store.append(streamId!, [{ type: 'Raced', data: { worker, expected } }], {
      expectedVersion: expected,
    });
    if (result.firstVersion !== expected + 1)
      throw new Error(`won expected ${expected} but got version ${result.firstVersion}`);
    won.push(expected);
  } catch (error) {
    if (!isVersionConflict(error)) throw error;
    lost.push({ expected, current: error.currentVersion });
  }
}
await store.close();
process.stdout.write(`${JSON.stringify({ worker, won, lost })}\n`);
process.stdin.destroy();
