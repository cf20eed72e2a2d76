import type { Command } from 'commander';
import { projectionStatuses } from '../server/projection-status.js';
import { action } from './cli-error.js';
import { createCliRegistry, openCliStore, type StoreCliOptions, withStoreOptions } from './cli-store.js';

interface ProjectionCliOptions extends StoreCliOptions {
  projections: string;
  json?: boolean;
  catchUp?: boolean;
}

/**
 * `ordo projections ls|rebuild`: the projections of a module over the store. `ls` prints status
 * (without running anything unless `--catch-up`); `rebuild` runs a blue/green rebuild with a
 * progress bar and exits once readers use the new generation.
 */
export function registerProjectionsCommand(program: Command): void {
  const projections = program.command('projections').description('list and rebuild projections');
  withStoreOptions(projections.command('ls').description('status of every projection'))
    .requiredOption('--projections <module>', 'module exporting `projections`')
    .option('--catch-up', 'run the projections until they are caught up before printing')
    .option('--json', 'print JSON')
    .action(
      action(async (options: ProjectionCliOptions) => {
        const store = await openCliStore(options);
        const registry = await createCliRegistry(store, options.projections);
        try {
          if (options.catchUp) {
            await registry.start();
            await (registry as unknown as { waitForCatchUp(): Promise<void> }).waitForCatchUp();
          }
          const statuses = await projectionStatuses(registry);
          if (options.json) {
            process.stdout.write(`${JSON.stringify(statuses.map(({ details: _d, ...s }) => s))}\n`);
          } else {
            process.stdout.write('name\tstate\tposition\tlag events\tlag ms\tprocessed\terrors\n');
            for (const s of statuses) {
              process.stdout.write(
                `${s.name}\t${s.state}\t${s.position ?? '-'}\t${s.lagEvents}\t${s.lagMs}\t${s.processed}\t${s.errors}\n`,
              );
            }
          }
        } finally {
          await registry.stop();
          await store.close();
        }
      }),
    );
  withStoreOptions(
    projections.command('rebuild <name>').description('blue/green rebuild with a progress bar'),
  )
    .requiredOption('--projections <module>', 'module exporting `projections`')
    .action(
      action(async (name: string, options: ProjectionCliOptions) => {
        const store = await openCliStore(options);
        const registry = await createCliRegistry(store, options.projections);
        const { SingleBar } = await import('cli-progress');
        const bar = new SingleBar({
          format: `rebuild ${name} [{bar}] {value}/{total} events`,
          stream: process.stderr,
          noTTYOutput: true,
          notTTYSchedule: 1_000,
        });
        let started = false;
        try {
          const result = await registry.rebuild(name, {
            onProgress: (p) => {
              if (!started) {
                bar.start(p.total ?? p.processed, 0);
                started = true;
              }
              if (typeof p.total === 'number') bar.setTotal(p.total);
              bar.update(p.processed);
            },
          });
          if (started) bar.stop();
          process.stdout.write(`${JSON.stringify(result)}\n`);
        } finally {
          if (started) bar.stop();
          await registry.stop();
          await store.close();
        }
      }),
    );
}
