import type { Command } from 'commander';
import { action, CliUsageError } from './cli-error.js';
import { openCliStore, type StoreCliOptions, withStoreOptions } from './cli-store.js';
import { runSeatBookingDemo } from './seat-booking.js';

interface DemoOptions extends StoreCliOptions {
  url?: string;
  token?: string;
  seats: string;
  clients: string;
  show?: string;
  clientPrefix: string;
  pace: string;
  json?: boolean;
}

const positive = (value: string, name: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new CliUsageError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
};

/**
 * `ordo demo`: concurrent clients book the seats of one show (through the store, or through a
 * running server with `--url` so the console shows appends, conflicts and retries live), then the
 * summary proves bookings = seats and no seat was sold twice. Exits 1 on overbooking.
 */
export function registerDemoCommand(program: Command): void {
  withStoreOptions(
    program
      .command('demo')
      .description('seat-booking demo: concurrent clients, conflicts retried, no overbooking'),
  )
    .option('--url <url>', 'book through a running `ordo serve` (e.g. http://127.0.0.1:4700)')
    .option('--token <token>', 'bearer token for --url')
    .option('--seats <n>', 'seats of the show', '50')
    .option('--clients <n>', 'concurrent clients', '8')
    .option(
      '--show <streamId>',
      'stream of the show (default: a new show-<time> stream); an existing show is joined',
    )
    .option('--client-prefix <name>', 'customer names are <name>-1, <name>-2, …', 'client')
    .option('--pace <ms>', 'random pause up to <ms> after each booking of a client', '10')
    .option('--json', 'print the summary as JSON')
    .action(
      action(async (options: DemoOptions) => {
        const seats = positive(options.seats, '--seats');
        const clients = positive(options.clients, '--clients');
        const paceMs = Number(options.pace) || 0;
        const streamId = options.show ?? `show-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        const store = options.url ? undefined : await openCliStore(options);
        try {
          const summary = await runSeatBookingDemo({
            ...(store ? { store } : { url: options.url! }),
            ...(options.namespace ? { namespace: options.namespace } : {}),
            ...(options.token ? { token: options.token } : {}),
            streamId,
            clientPrefix: options.clientPrefix,
            seats,
            clients,
            paceMs,
            log: options.json ? undefined : (line) => process.stdout.write(`${line}\n`),
          });
          if (options.json) {
            process.stdout.write(`${JSON.stringify(summary)}\n`);
          } else {
            process.stdout.write(
              [
                `bookings:          ${summary.bookings} (seats: ${summary.seats})`,
                `conflicts retried: ${summary.conflictsRetried}`,
                `distinct seats:    ${summary.distinctSeats}`,
                `overbooking:       ${summary.overbooked ? 'YES — this is a bug' : 'none'}`,
                `per client:        ${Object.entries(summary.perClient)
                  .map(([c, n]) => `${c}=${n}`)
                  .join(' ')}`,
              ]
                .map((line) => `${line}\n`)
                .join(''),
            );
          }
          if (summary.overbooked || summary.bookings !== summary.seats) process.exitCode = 1;
        } finally {
          await store?.close();
        }
      }),
    );
}
