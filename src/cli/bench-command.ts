import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { action, CliUsageError } from './cli-error.js';

interface BenchCliOptions {
  backend?: string;
  quick?: boolean;
  duration?: string;
  results?: string;
  report: boolean;
  extras: boolean;
}

/**
 * `ordo bench`: runs the benchmark harness of a source checkout (`bench/run.ts`, TypeScript run
 * through tsx). Installed packages do not ship the harness; the command then says so.
 */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('run the benchmarks (source checkout only)')
    .option('--backend <list>', 'comma-separated backends: memory,sqlite,postgres,nats')
    .option('--quick', 'small sizes and short windows (smoke run)')
    .option('--duration <ms>', 'timed window of each workload')
    .option('--results <dir>', 'directory of the JSON results (default bench/results)')
    .option('--no-report', 'do not regenerate docs/benchmarks.md')
    .option('--no-extras', 'skip the projection and server-load benchmarks')
    .action(
      action(async (options: BenchCliOptions) => {
        const path = fileURLToPath(new URL('../../bench/run.ts', import.meta.url));
        if (!existsSync(path))
          throw new CliUsageError('the benchmark harness (bench/run.ts) is only in a source checkout');
        const { register } = await import('tsx/esm/api');
        register();
        const { runBenchmarks } = (await import(pathToFileURL(path).href)) as {
          runBenchmarks: (
            options: Record<string, unknown>,
          ) => Promise<{ skipped: { backend: string; reason: string }[] }>;
        };
        const run = await runBenchmarks({
          ...(options.backend ? { backends: options.backend.split(',').map((s) => s.trim()) } : {}),
          quick: options.quick ?? false,
          ...(options.duration ? { durationMs: Number(options.duration) } : {}),
          ...(options.results ? { resultsDir: options.results } : {}),
          ...(options.report ? {} : { reportPath: false }),
          extras: options.extras,
        });
        for (const s of run.skipped) process.stderr.write(`skipped ${s.backend}: ${s.reason}\n`);
      }),
    );
}
