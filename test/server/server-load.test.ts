import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runServerLoad } from '../../bench/server-load.js';

it('load-tests ordo serve and writes the result file (shape only, no timing)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ordo-load-'));
  try {
    const resultsPath = join(dir, 'server.json');
    const result = await runServerLoad({
      stores: ['memory:'],
      durationSec: 1,
      connections: 2,
      resultsPath,
      log: () => {},
    });
    expect(JSON.parse(await readFile(resultsPath, 'utf8'))).toEqual(JSON.parse(JSON.stringify(result)));
    expect(result.workloads.map((w) => w.id)).toEqual([
      'http-append-1',
      'http-append-10',
      'http-read-stream',
    ]);
    for (const w of result.workloads) {
      expect(w.store).toBe('memory:');
      expect(w.requests).toBeGreaterThan(0);
      expect(w.non2xx).toBe(0);
      expect(w.errors).toBe(0);
      expect(w.latencyMs.p99).toBeGreaterThanOrEqual(w.latencyMs.p50);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
