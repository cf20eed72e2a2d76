import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A worker OS process speaking line-based text on stdin/stdout. */
export interface TestWorker {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves with the first stdout line satisfying `predicate` (rejects if the process exits first). */
  waitForLine(predicate: (line: string) => boolean): Promise<string>;
  /** Every stdout line so far. */
  readonly lines: readonly string[];
  /** Resolves with the exit code and signal once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  send(line: string): void;
}

/**
 * Starts `src/testing/workers/<name>` in a new Node.js process with `args`. From TypeScript
 * sources the worker runs through `tsx`; from the built package it is plain JavaScript.
 */
export function spawnTestWorker(name: string, args: string[]): TestWorker {
  const here = import.meta.url;
  const extension = here.endsWith('.ts') ? '.ts' : '.js';
  const script = fileURLToPath(new URL(`./workers/${name}${extension}`, here));
  const nodeArgs = extension === '.ts' ? ['--import', 'tsx', script, ...args] : [script, ...args];
  const child = spawn(process.execPath, nodeArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters = new Set<{ predicate: (line: string) => boolean; resolve: (line: string) => void }>();
  let buffer = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters) {
        if (waiter.predicate(line)) {
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // A killed worker cannot read its stdin any more; that is expected, not an error.
  child.stdin.on('error', () => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
    },
  );
  return {
    child,
    lines,
    exited,
    waitForLine(predicate) {
      const found = lines.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise<string>((resolve, reject) => {
        waiters.add({ predicate, resolve });
        exited.then(({ code, signal, stderr: err }) =>
          reject(
            new Error(
              `worker ${name} exited (code ${code}, signal ${signal}) before the expected output: ${err}`,
            ),
          ),
        );
      });
    },
    send(line) {
      child.stdin.write(`${line}\n`);
    },
  };
}
