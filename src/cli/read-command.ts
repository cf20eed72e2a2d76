import type { Command } from 'commander';
import type { EventFilter, RecordedEvent } from '../core/types.js';
import { action, CliUsageError } from './cli-error.js';
import { openCliStore, type StoreCliOptions, withStoreOptions } from './cli-store.js';
import { formatEvent } from './print-event.js';

interface ReadOptions extends StoreCliOptions {
  from?: string;
  to?: string;
  limit?: string;
  backwards?: boolean;
  after?: string;
  type: string[];
  json?: boolean;
}

const int = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new CliUsageError(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
};

/** `ordo read [stream]`: a stream in version order, or the global log in position order. */
export function registerReadCommand(program: Command): void {
  withStoreOptions(
    program.command('read [streamId]').description('print a stream, or every stream in global order'),
  )
    .option('--from <version>', 'first version (stream)')
    .option('--to <version>', 'last version (stream)')
    .option('--backwards', 'newest first (stream)')
    .option('--after <position>', 'start after this position (global log)')
    .option(
      '--type <type>',
      'only these event types (global log, repeatable)',
      (v, acc: string[]) => [...acc, v],
      [],
    )
    .option('--limit <n>', 'at most n events')
    .option('--json', 'print NDJSON (one recorded event per line)')
    .action(
      action(async (streamId: string | undefined, options: ReadOptions) => {
        const limit = int(options.limit, '--limit');
        const store = await openCliStore(options);
        try {
          let events: RecordedEvent[];
          if (streamId !== undefined) {
            const fromVersion = int(options.from, '--from');
            const toVersion = int(options.to, '--to');
            events = await store.readStream(streamId, {
              ...(fromVersion === undefined ? {} : { fromVersion }),
              ...(toVersion === undefined ? {} : { toVersion }),
              ...(limit === undefined ? {} : { limit }),
              ...(options.backwards ? { direction: 'backwards' as const } : {}),
            });
          } else {
            const filter: EventFilter | undefined = options.type.length ? { types: options.type } : undefined;
            events = await store.readAll({
              ...(options.after ? { after: options.after } : {}),
              ...(limit === undefined ? {} : { limit }),
              ...(filter ? { filter } : {}),
            });
          }
          for (const event of events) process.stdout.write(`${formatEvent(event, options.json ?? false)}\n`);
        } finally {
          await store.close();
        }
      }),
    );
}
