import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { EventStore } from '../core/types.js';
import { openStore } from '../open-store.js';
import type { ProjectionRegistryLike } from '../server/server-config.js';
import { CliUsageError } from './cli-error.js';

/** The store every command uses unless `--store` or `ORDO_STORE` says otherwise. */
export const DEFAULT_STORE_URL = 'sqlite:./.ordo/ordo.db';

/** Options shared by commands that open a store. */
export interface StoreCliOptions {
  store: string;
  namespace?: string;
}

/** Adds `--store` and `--namespace` to a command. */
export function withStoreOptions(command: Command): Command {
  return command
    .option(
      '--store <url>',
      'sqlite:<path>, postgres://…, nats://… or memory:',
      process.env.ORDO_STORE ?? DEFAULT_STORE_URL,
    )
    .option('--namespace <name>', 'namespace of the streams (default: the store default)');
}

/** Opens the store of `--store`, creating the directory of a SQLite file first. */
export async function openCliStore(options: StoreCliOptions): Promise<EventStore> {
  if (options.store.startsWith('sqlite:')) {
    const path = options.store.slice('sqlite:'.length).replace(/^\/\//, '');
    if (path && path !== ':memory:') await mkdir(dirname(resolve(path)), { recursive: true });
  }
  return openStore(options.store, options.namespace ? { namespace: options.namespace } : {});
}

/**
 * Loads projection definitions from a module exporting `projections` (an array) or a default
 * export that is one. Projections are code, so the CLI and server take them from a module path.
 */
export async function loadProjectionModule(path: string): Promise<unknown[]> {
  const module = (await import(pathToFileURL(resolve(path)).href)) as {
    projections?: unknown;
    default?: unknown;
  };
  const list = module.projections ?? module.default;
  if (!Array.isArray(list))
    throw new CliUsageError(`${path} must export \`projections\` (an array of defineProjection results)`);
  return list;
}

/** A registry over `store` for the projections of the module (needs `ordo/projections`). */
export async function createCliRegistry(
  store: EventStore,
  modulePath: string,
): Promise<ProjectionRegistryLike & { start(): Promise<void> | void; stop(): Promise<void> | void }> {
  const projections = await loadProjectionModule(modulePath);
  // A computed specifier keeps the CLI independent of the projections module at build time.
  const specifier = '../projections/index.js';
  const { createProjectionRegistry } = (await import(specifier)) as {
    createProjectionRegistry: (config: {
      store: EventStore;
      projections: unknown[];
    }) => ProjectionRegistryLike & {
      start(): Promise<void> | void;
      stop(): Promise<void> | void;
    };
  };
  return createProjectionRegistry({ store, projections });
}

/** Parses a JSON option value into a typed usage error when it is not JSON. */
export function parseJsonOption(value: string, name: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new CliUsageError(`${name} must be JSON, got ${JSON.stringify(value)}`);
  }
}
