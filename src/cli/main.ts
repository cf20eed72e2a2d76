import { reportError } from './cli-error.js';
import { createProgram } from './program.js';

// Entry point of the `ordo` binary (bin/ordo.js imports the built copy).
createProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.exitCode = reportError(error);
  });
