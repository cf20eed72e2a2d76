import { Command } from 'commander';
import { registerAppendCommand } from './append-command.js';
import { registerBenchCommand } from './bench-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerMigrateCommand } from './migrate-command.js';
import { registerProjectionsCommand } from './projections-command.js';
import { registerReadCommand } from './read-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerTailCommand } from './tail-command.js';

/** The `ordo` command with every subcommand; each opens the store of `--store` through `openStore`. */
export function createProgram(): Command {
  const program = new Command()
    .name('ordo')
    .description(
      'Event store with optimistic concurrency control: serve, append, read, tail, projections, demo.',
    )
    .showHelpAfterError();
  registerServeCommand(program);
  registerAppendCommand(program);
  registerReadCommand(program);
  registerTailCommand(program);
  registerProjectionsCommand(program);
  registerMigrateCommand(program);
  registerBenchCommand(program);
  registerDemoCommand(program);
  return program;
}
