import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendResult } from '../../bench/bench-types.js';
import { readResults, renderReport } from '../../bench/report.js';
import { backendResultSchema } from '../../bench/result-schema.js';
import { runBenchmarks } from '../../bench/run.js';
import { InvalidInputError } from '../../src/index.js';

// Shape and correctness only: figures depend on the machine, so no value is compared to a threshold.
describe('benchmark harness (quick, memory backend)', () => {
  let dir: string;
  let result: BackendResult;
  let report: string;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'ordo-bench-smoke-'));
    const run = await runBenchmarks({
      backends: ['memory'],
      quick: true,
      durationMs: 60,
      resultsDir: join(dir, 'results'),
      reportPath: join(dir, 'benchmarks.md'),
      extras: false,
      log: (line) => lines.push(line),
    });
    expect(run.skipped).toEqual([]);
    expect(run.results).toHaveLength(1);
    result = JSON.parse(await readFile(join(dir, 'results', 'memory.json'), 'utf8')) as BackendResult;
    report = await readFile(join(dir, 'benchmarks.md'), 'utf8');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a result file that matches the result schema', () => {
    expect(backendResultSchema.safeParse(result).success).toBe(true);
  });

  it('writes exactly one result file, for the backend asked for', async () => {
    expect(await readdir(join(dir, 'results'))).toEqual(['memory.json']);
    expect(result.backend).toBe('memory');
    expect(result.quick).toBe(true);
  });

  it('records machine, node version and date', () => {
    expect(result.machine.node).toBe(process.version);
    expect(result.machine.cpus).toBeGreaterThan(0);
    expect(typeof result.machine.cpuModel).toBe('string');
    expect(new Date(result.date).toISOString()).toBe(result.date);
    expect(result.settings.durationMs).toBe(60);
  });

  it('has every standard workload with finite figures and boolean targets', () => {
    expect(result.workloads.map((w) => w.id)).toEqual([
      'append-1-seq',
      'append-10-seq',
      'append-1-c16',
      'append-10-c16',
      'hot-stream-c16',
      'stream-version-10',
      'stream-version-long',
      'read-all',
    ]);
    for (const w of result.workloads) {
      expect(Number.isFinite(w.value), w.id).toBe(true);
      expect(w.value, w.id).toBeGreaterThanOrEqual(0);
      expect(w.operations, w.id).toBeGreaterThan(0);
      expect(['appends/s', 'events/s', 'µs']).toContain(w.unit);
      for (const t of w.targets) expect(typeof t.pass).toBe('boolean');
    }
    const targets = result.workloads.flatMap((w) => w.targets);
    expect(result.summary).toEqual({ targets: targets.length, passed: targets.filter((t) => t.pass).length });
  });

  it('counts batch appends as ten events each', () => {
    const batch = result.workloads.find((w) => w.id === 'append-10-seq')!;
    expect(batch.events).toBe(batch.operations * 10);
    const single = result.workloads.find((w) => w.id === 'append-1-c16')!;
    expect(single.events).toBe(single.operations);
    expect(single.concurrency).toBe(16);
  });

  it('passes the correctness checks the workloads carry', () => {
    const check = (id: string, description: string) =>
      result.workloads.find((w) => w.id === id)!.targets.find((t) => t.description === description)?.pass;
    expect(check('hot-stream-c16', 'stream grew by exactly the successful appends')).toBe(true);
    expect(check('read-all', 'positions strictly increasing')).toBe(true);
    expect(check('stream-version-long', 'returns the exact stream lengths')).toBe(true);
    const hot = result.workloads.find((w) => w.id === 'hot-stream-c16')!;
    expect(hot.details.streamGrowth).toBe(hot.events);
    expect(result.workloads.find((w) => w.id === 'stream-version-long')!.details.streamLength).toBe(1_000);
  });

  it('regenerates the markdown report from the result files', () => {
    expect(report).toContain('# Benchmarks');
    expect(report).toContain('## Memory');
    expect(report).toContain('`append-1-seq`');
    expect(report).toContain('Quick smoke run');
    expect(report).toBe(
      renderReport([result], report.includes('## Notes') ? report.slice(report.indexOf('## Notes')) : ''),
    );
    expect(lines.some((l) => l.startsWith('memory: '))).toBe(true);
  });

  it('rejects an unknown backend before measuring anything', async () => {
    await expect(
      runBenchmarks({
        backends: ['oracle' as 'memory'],
        resultsDir: join(dir, 'other'),
        reportPath: false,
        extras: false,
        log: () => {},
      }),
    ).rejects.toThrow(InvalidInputError);
    expect(existsSync(join(dir, 'other'))).toBe(false);
  });

  it('refuses to render a result file that does not match the schema', async () => {
    const broken = join(dir, 'broken');
    await mkdir(broken);
    await writeFile(
      join(broken, 'sqlite.json'),
      JSON.stringify({ ...result, backend: 'sqlite', workloads: [] }),
    );
    await expect(readResults(broken)).rejects.toThrow(InvalidInputError);
    await writeFile(join(broken, 'sqlite.json'), '{"backend": "sqlite", ');
    await expect(readResults(broken)).rejects.toThrow(/not valid JSON/);
    await writeFile(join(broken, 'sqlite.json'), JSON.stringify({ other: 'module' }));
    expect(await readResults(broken)).toEqual([]);
  });

  it('rejects a window that is not a positive number', async () => {
    for (const durationMs of [0, -5, Number.NaN]) {
      await expect(
        runBenchmarks({
          backends: ['memory'],
          durationMs,
          resultsDir: join(dir, 'bad'),
          reportPath: false,
          extras: false,
          log: () => {},
        }),
      ).rejects.toThrow(InvalidInputError);
    }
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });
});
