import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A fresh directory for one test's database files. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ordo-sqlite-test-'));
}

/** Runs `test/workers/<name>.ts` in a new process; resolves with its stdout when it exits with 0. */
export function runWorker(name: string, args: string[], onLine?: (line: string) => void): Promise<string> {
  const script = fileURLToPath(new URL(`../workers/${name}.ts`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stdout += text;
    if (onLine) for (const line of text.split('\n')) if (line) onLine(line);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`worker ${name} exited with ${code}: ${stderr}`)),
    );
  });
}
