import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/open-store.js';
import { describeWithService } from '../support/services.js';
import { checkHistory, type HistoryEntry } from './history-check.js';
import { type ReliabilityTarget, targets } from './targets.js';

const worker = fileURLToPath(new URL('./workers/history-worker.ts', import.meta.url));
const PROCESSES = 4;
const OPERATIONS = 60;

function runWorker(url: string, namespace: string, index: number): Promise<HistoryEntry[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', worker, url, namespace, String(index), String(OPERATIONS)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`worker ${index} exited with ${code}: ${err}`));
      resolve(
        out
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as HistoryEntry),
      );
    });
  });
}

function linearizabilitySuite(target: ReliabilityTarget): void {
  it(`${PROCESSES} processes × ${OPERATIONS} operations: acknowledged appends unique and contiguous, reads are prefixes`, async (ctx) => {
    const url = target.url();
    const namespace = `lin${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    // Create the schema/stream once before the workers race to open it.
    const store = await openStore(url, { namespace });
    try {
      if (!store.capabilities.multiProcess) return ctx.skip('the store lives in one process only');
      const histories = await Promise.all(
        Array.from({ length: PROCESSES }, (_, i) => runWorker(url, namespace, i)),
      );
      const history = histories.flat();
      const finalStreams = new Map<string, string[]>();
      for (const streamId of new Set(history.map((h) => h.streamId))) {
        finalStreams.set(
          streamId,
          (await store.readStream(streamId)).map((e) => e.id),
        );
      }
      const result = checkHistory(history, finalStreams);
      expect(result.violations).toEqual([]);
      expect(result.acknowledged).toBeGreaterThan(0);
      // Every stored event was acknowledged to exactly one writer (nothing appeared from nowhere).
      const storedCount = [...finalStreams.values()].reduce((n, ids) => n + ids.length, 0);
      expect(storedCount).toBe(result.acknowledged);
    } finally {
      await store.close();
    }
  });
}

for (const target of targets) {
  const name = `appends are linearizable across processes: ${target.name}`;
  if (target.service) describeWithService(target.service, name, () => linearizabilitySuite(target));
  else describe(name, () => linearizabilitySuite(target));
}
