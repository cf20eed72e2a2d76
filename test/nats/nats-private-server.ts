import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Path of the nats-server binary used for private test servers. */
export const natsServerBinary = process.env.ORDO_TEST_NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A nats-server with JetStream of its own (own port, own storage directory), so a test may kill
 * and restart it without touching the shared server.
 */
export class PrivateNatsServer {
  readonly storeDir = mkdtempSync(join(tmpdir(), 'ordo-nats-'));
  #process: ChildProcess | undefined;

  constructor(readonly port: number) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts the server and resolves once it accepts connections (bounded by `timeoutMs`). */
  async start(timeoutMs = 10_000): Promise<void> {
    const child = spawn(
      natsServerBinary,
      ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir],
      {
        stdio: 'ignore',
      },
    );
    this.#process = child;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`nats-server exited with code ${child.exitCode}`);
      if (await listening(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`nats-server did not listen on ${this.port} within ${timeoutMs} ms`);
  }

  /** Kills the server with SIGKILL (no graceful shutdown) and waits for the process to end. */
  async kill(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Kills the server and removes its storage. */
  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
