import net from 'node:net';
import { describe } from 'vitest';

/** Connection URLs of the real servers the backend suites use (exported by `.ci/run`). */
export const postgresUrl = process.env.ORDO_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const natsUrl = process.env.ORDO_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort) });
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const [postgresUp, natsUp] = await Promise.all([reachable(postgresUrl, 5432), reachable(natsUrl, 4222)]);

/**
 * `describe` for suites that need a real server. Under `CI=true` an unreachable server fails the
 * suite; elsewhere the suite is skipped with a visible message.
 */
export function describeWithService(service: 'postgres' | 'nats', name: string, body: () => void): void {
  const up = service === 'postgres' ? postgresUp : natsUp;
  const url = service === 'postgres' ? postgresUrl : natsUrl;
  if (up) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      throw new Error(`${service} is not reachable at ${url} and CI=true: this suite must run in CI`);
    });
    return;
  }
  console.warn(`SKIPPED ${name}: ${service} is not reachable at ${url} (set CI=true to make this a failure)`);
  describe.skip(`${name} (skipped: ${service} not reachable at ${url})`, body);
}
