import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs `test/postgres/workers/<name>.ts` in its own OS process (`node --import tsx`), passing
 * `input` as JSON and resolving with the JSON the worker prints on its last stdout line.
 * Rejects on a non-zero exit or when `timeoutMs` passes (the worker is then killed).
 */
export function runWorker<T>(name: string, input: unknown, timeoutMs = 45_000): Promise<T> {
  const file = fileURLToPath(new URL(`./workers/${name}.ts`, import.meta.url));
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, JSON.stringify(input)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker ${name} timed out after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`worker ${name} exited with ${code}\n${stderr}`));
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`worker ${name} printed no result\n${stdout}\n${stderr}`));
      }
    });
  });
}
