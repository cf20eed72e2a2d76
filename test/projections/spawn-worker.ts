import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A worker process from `test/projections/workers/` that prints one JSON object per line. */
export interface Worker {
  readonly child: ChildProcessWithoutNullStreams;
  readonly messages: Array<Record<string, unknown>>;
  /** First message satisfying `predicate`; rejects when the process exits first. */
  waitFor(predicate: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export function spawnWorker(name: string, args: string[]): Worker {
  const script = fileURLToPath(new URL(`./workers/${name}.ts`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const messages: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  let stderr = '';
  let done = false;
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{')) messages.push(JSON.parse(line));
    for (const waiter of waiters) waiter();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.on('error', () => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => {
      child.on('exit', (code, signal) => {
        done = true;
        for (const waiter of waiters) waiter();
        resolve({ code, signal, stderr });
      });
    },
  );
  return {
    child,
    messages,
    exited,
    waitFor(predicate) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate);
          if (found) {
            waiters.delete(check);
            resolve(found);
          } else if (done) {
            waiters.delete(check);
            reject(
              new Error(`worker ${name} exited before the expected message; stderr: ${stderr.slice(-2000)}`),
            );
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}
