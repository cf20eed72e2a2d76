import type { Command } from 'commander';
import { driverOf } from '../core/driver-event-store.js';
import { action } from './cli-error.js';
import { openCliStore, type StoreCliOptions, withStoreOptions } from './cli-store.js';

/**
 * `ordo migrate`: brings the store's schema up to date. SQL backends migrate when opened
 * (idempotently); a backend exposing `migrate()` on its driver is also asked to run it.
 */
export function registerMigrateCommand(program: Command): void {
  withStoreOptions(program.command('migrate').description('create or upgrade the store schema')).action(
    action(async (options: StoreCliOptions) => {
      const store = await openCliStore(options);
      try {
        const driver = driverOf(store) as { migrate?: () => Promise<unknown> } | undefined;
        if (typeof driver?.migrate === 'function') await driver.migrate();
        const head = await store.headPosition();
        process.stdout.write(`schema up to date for ${options.store} (head position ${head})\n`);
      } finally {
        await store.close();
      }
    }),
  );
}
