import type { Command } from 'commander';
import type { TokenConfig } from '../server/server-config.js';
import { action, CliUsageError } from './cli-error.js';
import { createCliRegistry, openCliStore, type StoreCliOptions, withStoreOptions } from './cli-store.js';

interface ServeOptions extends StoreCliOptions {
  port: string;
  host: string;
  token: string[];
  projections?: string;
}

/** Parses `--token ns1,ns2:secret` (or `*:secret` for every namespace). */
export function parseTokenOption(value: string): TokenConfig {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1)
    throw new CliUsageError(`--token must be <namespaces>:<token>, got ${JSON.stringify(value)}`);
  const scope = value.slice(0, colon);
  const token = value.slice(colon + 1);
  return { token, namespaces: scope === '*' ? '*' : scope.split(',').filter(Boolean) };
}

/** `ordo serve`: HTTP API, SSE, metrics and the web console over one store until SIGINT/SIGTERM. */
export function registerServeCommand(program: Command): void {
  withStoreOptions(program.command('serve').description('serve the HTTP API, /metrics and the web console'))
    .option('--port <port>', 'port to listen on', process.env.ORDO_PORT ?? '4700')
    .option(
      '--host <host>',
      'address to bind (only loopback without --token)',
      process.env.ORDO_HOST ?? '127.0.0.1',
    )
    .option(
      '--token <namespaces:token>',
      'bearer token scoped to namespaces (repeatable; * = all)',
      (v, acc: string[]) => [...acc, v],
      [],
    )
    .option('--projections <module>', 'module exporting `projections` to run and show')
    .action(
      action(async (options: ServeOptions) => {
        const port = Number(options.port);
        if (!Number.isInteger(port) || port < 0 || port > 65_535)
          throw new CliUsageError(`--port must be a port number, got ${options.port}`);
        const tokens = options.token.map(parseTokenOption);
        const store = await openCliStore(options);
        let registry: Awaited<ReturnType<typeof createCliRegistry>> | undefined;
        let server: import('../server/create-server.js').OrdoServer | undefined;
        try {
          registry = options.projections ? await createCliRegistry(store, options.projections) : undefined;
          await registry?.start();
          // Loaded on demand: the other commands start faster without hono, pino and prom-client.
          const { createServer } = await import('../server/create-server.js');
          server = createServer({
            store,
            ...(registry ? { projections: registry } : {}),
            ...(tokens.length ? { tokens } : {}),
          });
          const address = await server.listen({ port, host: options.host });
          process.stdout.write(`Ordo serving ${options.store} (namespace ${store.namespace})\n`);
          process.stdout.write(
            `Console: ${address.url}/\nAPI:     ${address.url}/api/v1/ns/${store.namespace}/…\nMetrics: ${address.url}/metrics\n`,
          );
          await new Promise<void>((resolve) => {
            process.once('SIGINT', () => resolve());
            process.once('SIGTERM', () => resolve());
          });
        } finally {
          // Also on a failed start (port taken, bad projections module): release the store so the process exits.
          await server?.close();
          await registry?.stop();
          await store.close();
        }
      }),
    );
}
