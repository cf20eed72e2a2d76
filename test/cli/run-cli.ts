import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const tsx = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the `ordo` CLI from source (through tsx) in `cwd`. */
export function startCli(args: string[], cwd: string, input?: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', tsx, main, ...args], {
    cwd,
    env: { ...process.env, ORDO_STORE: '', FORCE_COLOR: '0' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin!.end();
  return child;
}

export interface RunCliOptions {
  input?: string;
  timeoutMs?: number;
}

/** Runs the CLI to completion (killed after `timeoutMs`). */
export function runCli(args: string[], cwd: string, options?: RunCliOptions): Promise<CliResult>;
/** Runs the CLI; `ready` resolves once `onStderr` returns true for the stderr seen so far. */
export function runCli(
  args: string[],
  cwd: string,
  options: RunCliOptions & { onStderr: (text: string) => boolean },
): { ready: Promise<void>; result: Promise<CliResult> };
export function runCli(
  args: string[],
  cwd: string,
  options: RunCliOptions & { onStderr?: (text: string) => boolean } = {},
): Promise<CliResult> | { ready: Promise<void>; result: Promise<CliResult> } {
  const child = startCli(args, cwd, options.input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
    if (options.onStderr?.(stderr)) markReady();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      markReady();
      resolve({ code, stdout, stderr });
    });
  });
  return options.onStderr ? { ready, result } : result;
}
