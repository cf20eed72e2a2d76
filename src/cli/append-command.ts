import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { AppendOptions, ExpectedVersion, NewEvent } from '../core/types.js';
import { action, CliUsageError } from './cli-error.js';
import { openCliStore, parseJsonOption, type StoreCliOptions, withStoreOptions } from './cli-store.js';

interface AppendCliOptions extends StoreCliOptions {
  data?: string;
  metadata?: string;
  id?: string;
  tag: string[];
  expectedVersion?: string;
  events?: string;
}

/** Parses `--expected-version`: a number, `any`, `no_stream` or `stream_exists`. */
export function parseExpectedVersion(value: string): ExpectedVersion {
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (/^\d+$/.test(value)) return Number(value);
  throw new CliUsageError(
    `--expected-version must be a number, any, no_stream or stream_exists, got ${JSON.stringify(value)}`,
  );
}

/** `ordo append <stream> [type]`: appends one event (or a JSON array from `--events <file|->`) atomically. */
export function registerAppendCommand(program: Command): void {
  withStoreOptions(
    program.command('append <streamId> [type]').description('append events to a stream (one call, atomic)'),
  )
    .option('--data <json>', 'event data as JSON', '{}')
    .option('--metadata <json>', 'event metadata as a JSON object')
    .option('--id <id>', 'event id (re-sending the same id is idempotent)')
    .option('--tag <tag>', 'tag of the event (repeatable)', (v, acc: string[]) => [...acc, v], [])
    .option('--expected-version <v>', 'number, any, no_stream or stream_exists')
    .option('--events <file>', 'JSON array of events instead of one event (- for stdin)')
    .action(
      action(async (streamId: string, type: string | undefined, options: AppendCliOptions) => {
        let events: NewEvent[];
        if (options.events) {
          const text = options.events === '-' ? await readStdin() : await readFile(options.events, 'utf8');
          const parsed = parseJsonOption(text, '--events');
          if (!Array.isArray(parsed)) throw new CliUsageError('--events must hold a JSON array of events');
          events = parsed as NewEvent[];
        } else {
          if (!type) throw new CliUsageError('give an event type or --events <file>');
          const event: NewEvent = {
            type,
            data: parseJsonOption(options.data ?? '{}', '--data') as NewEvent['data'],
          };
          if (options.metadata)
            event.metadata = parseJsonOption(options.metadata, '--metadata') as NewEvent['metadata'] & object;
          if (options.id) event.id = options.id;
          if (options.tag.length) event.tags = options.tag;
          events = [event];
        }
        const appendOptions: AppendOptions = {};
        if (options.expectedVersion !== undefined)
          appendOptions.expectedVersion = parseExpectedVersion(options.expectedVersion);
        const store = await openCliStore(options);
        try {
          const result = await store.append(streamId, events, appendOptions);
          process.stdout.write(`${JSON.stringify(result)}\n`);
        } finally {
          await store.close();
        }
      }),
    );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
