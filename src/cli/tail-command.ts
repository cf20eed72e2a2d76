import type { Command } from 'commander';
import { action, CliUsageError } from './cli-error.js';
import { openCliStore, type StoreCliOptions, withStoreOptions } from './cli-store.js';
import { formatEvent } from './print-event.js';

interface TailOptions extends StoreCliOptions {
  after?: string;
  fromStart?: boolean;
  type: string[];
  count?: string;
  json?: boolean;
}

/**
 * `ordo tail`: follows the global log live (catch-up first when `--after`/`--from-start`), in
 * global order, each event once, until SIGINT or `--count` events.
 */
export function registerTailCommand(program: Command): void {
  withStoreOptions(program.command('tail').description('follow new events live'))
    .option('--after <position>', 'start after this position instead of the current head')
    .option('--from-start', 'replay every event before following')
    .option('--type <type>', 'only these event types (repeatable)', (v, acc: string[]) => [...acc, v], [])
    .option('--count <n>', 'exit after n events')
    .option('--json', 'print NDJSON')
    .action(
      action(async (options: TailOptions) => {
        const count = options.count === undefined ? undefined : Number(options.count);
        if (count !== undefined && (!Number.isSafeInteger(count) || count < 1))
          throw new CliUsageError('--count must be a positive integer');
        const store = await openCliStore(options);
        try {
          const after = options.fromStart ? '0' : (options.after ?? (await store.headPosition()));
          let seen = 0;
          let finish!: () => void;
          const done = new Promise<void>((resolve) => {
            finish = resolve;
          });
          process.stderr.write(`following after position ${after}\n`);
          const subscription = store.subscribe(
            { after, ...(options.type.length ? { filter: { types: options.type } } : {}) },
            (event) => {
              // The subscription may hand over a batch: never print past --count.
              if (count !== undefined && seen >= count) return;
              process.stdout.write(`${formatEvent(event, options.json ?? false)}\n`);
              seen += 1;
              if (count !== undefined && seen >= count) finish();
            },
          );
          process.once('SIGINT', finish);
          process.once('SIGTERM', finish);
          await Promise.race([done, subscription.closed]);
          await subscription.close();
        } finally {
          await store.close();
        }
      }),
    );
}
