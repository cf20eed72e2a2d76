import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A worker process that prints one JSON object per stdout line. */
export interface JsonWorker {
  readonly child: ChildProcessWithoutNullStreams;
  readonly messages: Array<Record<string, unknown>>;
  /** The latest message, if any. */
  last(): Record<string, unknown> | undefined;
  /** First message (from now on or already received) satisfying `predicate`; rejects if the process exits first or after `timeoutMs`. */
  waitFor(
    predicate: (message: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** SIGKILLs the process (if alive) and waits for it to end. */
  kill(): Promise<void>;
}

/**
 * Starts the TypeScript worker at `scriptUrl` with `node --import tsx`. `waitFor` gives up after
 * `defaultTimeoutMs` unless told otherwise (never, when it is `Infinity`).
 */
export function startJsonWorker(scriptUrl: URL, args: string[], defaultTimeoutMs = 30_000): JsonWorker {
  const script = fileURLToPath(scriptUrl);
  const name = script.split('/').pop() ?? script;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const messages: Array<Record<string, unknown>> = [];
  const listeners = new Set<() => void>();
  let buffer = '';
  let stderr = '';
  let done = false;
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{')) messages.push(JSON.parse(line));
    for (const listener of listeners) listener();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.on('error', () => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => {
      child.on('exit', (code, signal) => {
        done = true;
        for (const listener of listeners) listener();
        resolve({ code, signal, stderr });
      });
    },
  );
  return {
    child,
    messages,
    exited,
    last: () => messages[messages.length - 1],
    waitFor(predicate, timeoutMs = defaultTimeoutMs) {
      return new Promise((resolve, reject) => {
        // setTimeout cannot wait forever (it would fire at once): no timer for an infinite timeout.
        const timer = Number.isFinite(timeoutMs)
          ? setTimeout(() => {
              listeners.delete(check);
              reject(
                new Error(
                  `worker ${name} sent no expected message within ${timeoutMs} ms; last: ${JSON.stringify(messages.at(-1))}; stderr: ${stderr.slice(-2_000)}`,
                ),
              );
            }, timeoutMs)
          : undefined;
        let from = 0;
        function check() {
          for (; from < messages.length; from++) {
            if (predicate(messages[from]!)) {
              clearTimeout(timer);
              listeners.delete(check);
              return resolve(messages[from]!);
            }
          }
          if (done) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(
              new Error(`worker ${name} exited before the expected message; stderr: ${stderr.slice(-2_000)}`),
            );
          }
        }
        listeners.add(check);
        check();
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
