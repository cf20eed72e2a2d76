import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidInputError } from '../src/index.js';
import { allBackends, type BackendResult } from './bench-types.js';
import { formatNumber, formatRatio } from './format.js';
import { renderExtras } from './report-extras.js';
import { backendResultSchema } from './result-schema.js';

const benchDir = dirname(fileURLToPath(import.meta.url));

/**
 * Reads every `<backend>.json` of `resultsDir`, in the order of `allBackends`. A file that names a
 * backend but does not match the result schema throws `InvalidInputError` naming the file.
 */
export async function readResults(resultsDir: string): Promise<BackendResult[]> {
  if (!existsSync(resultsDir)) return [];
  const files = (await readdir(resultsDir)).filter((f) => f.endsWith('.json'));
  const results: BackendResult[] = [];
  for (const file of files) {
    const path = join(resultsDir, file);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new InvalidInputError('results', `${path} is not valid JSON`, { cause: error });
    }
    // Other benchmark modules may keep their own JSON files here: only backend results are rendered.
    const backend = (parsed as { backend?: unknown } | null)?.backend;
    if (typeof backend !== 'string' || !(allBackends as readonly string[]).includes(backend)) continue;
    const checked = backendResultSchema.safeParse(parsed);
    if (!checked.success) {
      throw new InvalidInputError(
        'results',
        `${path} is not a benchmark result: ${checked.error.issues[0]?.message}`,
        {
          cause: checked.error,
        },
      );
    }
    results.push(checked.data as BackendResult);
  }
  return results.sort((a, b) => allBackends.indexOf(a.backend) - allBackends.indexOf(b.backend));
}

const titles: Record<string, string> = {
  memory: 'Memory (reference backend, no database)',
  sqlite: 'SQLite (WAL, synchronous=FULL)',
  postgres: 'PostgreSQL',
  nats: 'NATS JetStream',
};

function table(result: BackendResult): string {
  const hasCeiling = result.workloads.some((w) => w.ceiling);
  const hasComparison = result.workloads.some((w) => w.comparison);
  const head = ['Workload', 'Ordo'];
  if (hasCeiling) head.push('Raw ceiling', 'Ordo / raw');
  if (hasComparison) head.push('Emmett', 'Ordo / Emmett');
  head.push('Targets');
  const rows = result.workloads.map((w) => {
    const cells = [`\`${w.id}\`: ${w.description}`, `${formatNumber(w.value)} ${w.unit}`];
    if (hasCeiling)
      cells.push(
        w.ceiling ? formatNumber(w.ceiling.value) : '',
        w.ceiling ? formatRatio(w.ceiling.ratio) : '',
      );
    if (hasComparison) {
      cells.push(
        w.comparison ? formatNumber(w.comparison.value) : '',
        w.comparison ? `×${w.comparison.ratio.toFixed(2)}` : '',
      );
    }
    const extra: string[] = [];
    if (typeof w.details.conflicts === 'number') extra.push(`${formatNumber(w.details.conflicts)} conflicts`);
    if (typeof w.details.ratioToShort === 'number')
      extra.push(`ratio to 10-event stream ${w.details.ratioToShort.toFixed(2)}`);
    cells.push(
      [...w.targets.map((t) => `${t.pass ? 'PASS' : '**FAIL**'} ${t.description}`), ...extra].join('; '),
    );
    return cells.map((c) => c.replaceAll('|', '\\|'));
  });
  return alignedTable(head, rows);
}

/** A markdown table with padded columns, as the project's formatter writes them. */
function alignedTable(head: string[], rows: string[][]): string {
  const width = (text: string): number => [...text].length;
  const widths = head.map((h, i) => Math.max(3, width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => c + ' '.repeat(widths[i]! - width(c))).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function section(result: BackendResult): string {
  const m = result.machine;
  const lines = [
    `## ${titles[result.backend] ?? result.backend}`,
    '',
    `Measured ${result.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cpus} × ${m.cpuModel}, ${m.totalMemoryGiB} GiB, ` +
      `${m.platform}, Node ${m.node}, load average ${m.loadAverage} at start` +
      (m.loadAverageAfter === undefined ? '. ' : ` and ${m.loadAverageAfter} at the end. `) +
      `${result.summary.passed} of ${result.summary.targets} targets met.` +
      (result.quick ? ' **Quick smoke run: figures are not meaningful.**' : ''),
    '',
    `Settings: ${Object.entries(result.settings)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ')}.`,
    '',
    table(result),
  ];
  if (result.notes.length > 0) lines.push('', ...result.notes.map((n) => `- ${n}`));
  const missed = result.workloads.flatMap((w) =>
    w.targets
      .filter((t) => !t.pass)
      .map((t) => {
        const raw = w.ceiling
          ? ` (${formatRatio(w.ceiling.ratio)} of raw ${formatNumber(w.ceiling.value)})`
          : '';
        return `\`${w.id}\` measured ${formatNumber(w.value)} ${w.unit}${raw}, target ${t.description}`;
      }),
  );
  if (missed.length > 0) lines.push('', 'Missed targets in this run:', '', ...missed.map((m) => `- ${m}`));
  return lines.join('\n');
}

/** Markdown of the whole report: how to run, one table per backend, then the notes. */
export function renderReport(
  results: BackendResult[],
  notes: string,
  otherFiles: string[] = [],
  extras = '',
): string {
  const parts = [
    '# Benchmarks',
    '',
    '<!-- Generated by `tsx bench/report.ts` from bench/results/*.json; edit bench/notes.md for the notes. -->',
    '',
    'Each workload runs for a fixed window after a short warm-up, on one process, against a real',
    'server. Every append passes the exact `expectedVersion` its writer last saw, so the figures are',
    'those of the optimistic-concurrency path. Each run also measures the same database without',
    'Ordo (plain INSERTs or publishes of the same rows, no version checks) and shows Ordo as a share',
    'of that raw ceiling; PostgreSQL is also compared with Emmett on the same database and workload.',
    'Ordo and its references run in alternating rounds (three thirds of the window each), so a',
    'machine whose load drifts during the run does not favour either side of a ratio.',
    '',
    '## How to run',
    '',
    '```sh',
    'npm run bench                                  # every backend, default windows (a few minutes)',
    'npm run bench -- --backend sqlite,postgres     # selected backends',
    'npm run bench -- --quick --backend memory      # smoke run',
    'npx tsx bench/report.ts                        # regenerate this file from bench/results/*.json',
    'ordo bench --backend sqlite --quick            # the same harness through the CLI (source checkout)',
    '```',
    '',
    'Options: `--duration <ms>` (timed window per workload, default 2,500), `--results <dir>`,',
    '`--no-report`, `--no-extras`, `--strict` (exit status 1 when a target is missed). Servers default to',
    '`postgres://postgres@127.0.0.1:5432/test` and `nats://127.0.0.1:4222`; override with',
    '`ORDO_BENCH_POSTGRES_URL` and `ORDO_BENCH_NATS_URL`. The PostgreSQL suite creates a scratch',
    'database and drops it afterwards; the NATS suite creates its own streams and deletes them.',
    '',
  ];
  if (results.length === 0) parts.push('No results yet: run `npm run bench`.', '');
  else {
    parts.push(
      '## Summary',
      '',
      alignedTable(
        ['Backend', 'Targets met', 'Measured (UTC)', 'Load average (start / end)'],
        results.map((r) => [
          titles[r.backend] ?? r.backend,
          `${r.summary.passed} / ${r.summary.targets}`,
          r.date.slice(0, 16).replace('T', ' '),
          `${r.machine.loadAverage} / ${r.machine.loadAverageAfter ?? '?'}`,
        ]),
      ),
      '',
    );
  }
  for (const result of results) parts.push(section(result), '');
  if (extras.trim().length > 0) parts.push(extras.trim(), '');
  if (otherFiles.length > 0) {
    parts.push(
      '## Other benchmarks',
      '',
      'Other benchmark modules of `bench/` (reliability, soak) keep their own result files next to the',
      'backend results; `docs/reliability.md` presents them:',
      '',
      ...otherFiles.map((f) => `- \`bench/results/${f}\``),
      '',
    );
  }
  if (notes.trim().length > 0) parts.push(notes.trim(), '');
  return parts.join('\n');
}

/** Regenerates the markdown report at `reportPath` from the JSON files of `resultsDir` and `bench/notes.md`. */
export async function writeReport(resultsDir: string, reportPath: string): Promise<void> {
  const notesPath = join(benchDir, 'notes.md');
  const notes = existsSync(notesPath) ? await readFile(notesPath, 'utf8') : '';
  await mkdir(dirname(reportPath), { recursive: true });
  const results = await readResults(resultsDir);
  const backendFiles = new Set(results.map((r) => `${r.backend}.json`));
  const extras = await renderExtras(resultsDir);
  const otherFiles = existsSync(resultsDir)
    ? (await readdir(resultsDir))
        .filter((f) => f.endsWith('.json') && !backendFiles.has(f) && !extras.rendered.includes(f))
        .sort()
    : [];
  await writeFile(reportPath, renderReport(results, notes, otherFiles, extras.markdown));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const reportPath = resolve(benchDir, '..', 'docs', 'benchmarks.md');
  writeReport(join(benchDir, 'results'), reportPath).then(
    () => console.log(`report written to ${reportPath}`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
