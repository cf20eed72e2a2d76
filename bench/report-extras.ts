import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatNumber } from './format.js';

interface ServerLoadFile {
  date: string;
  machine: { loadAverage?: number };
  workloads: {
    id: string;
    store: string;
    description: string;
    requestsPerSec: number;
    eventsPerSec: number;
    latencyMs: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    connections: number;
  }[];
}

interface ProjectionsFile {
  date: string;
  events: number;
  results: {
    backend: string;
    catchUp: {
      projection: string;
      eventsPerSecond: number;
      target: number | null;
      meetsTarget: boolean | null;
    }[];
    withLockOn: { deciders: number; decisionsPerSecond: number; conflictRetries: number; exhausted: number };
  }[];
}

async function readJson<T>(path: string): Promise<T | undefined> {
  return existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as T) : undefined;
}

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function serverSection(file: ServerLoadFile): string {
  return [
    '## HTTP server load (`bench/server-load.ts`)',
    '',
    `Autocannon on loopback against \`ordo serve\`'s handler, ${file.date.slice(0, 16)} UTC` +
      (file.machine.loadAverage === undefined
        ? '.'
        : ` (load average ${file.machine.loadAverage.toFixed(1)} during the run).`),
    '',
    table(
      ['workload', 'store', 'connections', 'requests/s', 'events/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
      file.workloads.map((w) => [
        `\`${w.id}\`: ${w.description}`,
        w.store,
        String(w.connections),
        formatNumber(w.requestsPerSec),
        formatNumber(w.eventsPerSec),
        String(w.latencyMs.p50),
        String(w.latencyMs.p99),
        String(w.non2xx),
        String(w.errors),
      ]),
    ),
  ].join('\n');
}

function projectionsSection(file: ProjectionsFile): string {
  const catchUp = file.results.flatMap((r) =>
    r.catchUp.map((c) => [
      r.backend,
      c.projection,
      formatNumber(Math.round(c.eventsPerSecond)),
      c.target === null ? '' : formatNumber(c.target),
      c.meetsTarget === null ? '' : c.meetsTarget ? 'PASS' : 'FAIL',
    ]),
  );
  const locks = file.results.map((r) => [
    r.backend,
    String(r.withLockOn.deciders),
    formatNumber(Math.round(r.withLockOn.decisionsPerSecond)),
    String(r.withLockOn.conflictRetries),
    String(r.withLockOn.exhausted),
  ]);
  return [
    '## Projections (`bench/projections.ts`)',
    '',
    `Catch-up of a projection over ${formatNumber(file.events)} events per backend, ${file.date.slice(0, 16)} UTC.`,
    '`bench-revenue` keeps its state in the checkpoint (the target workload); `bench-totals` also writes one document per key.',
    '',
    table(['backend', 'projection', 'events/s', 'target', 'result'], catchUp),
    '',
    '`withLockOn` under contention (deciders racing on the same view):',
    '',
    table(['backend', 'deciders', 'decisions/s', 'conflict retries', 'retries exhausted'], locks),
  ].join('\n');
}

/** Markdown sections for the benchmark modules that keep their own result format (server load, projections). */
export async function renderExtras(resultsDir: string): Promise<{ markdown: string; rendered: string[] }> {
  const parts: string[] = [];
  const rendered: string[] = [];
  const server = await readJson<ServerLoadFile>(join(resultsDir, 'server.json'));
  if (server) {
    parts.push(serverSection(server), '');
    rendered.push('server.json');
  }
  const projections = await readJson<ProjectionsFile>(join(resultsDir, 'projections.json'));
  if (projections) {
    parts.push(projectionsSection(projections), '');
    rendered.push('projections.json');
  }
  return { markdown: parts.join('\n'), rendered };
}
