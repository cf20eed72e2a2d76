import type { NatsConnection } from '@nats-io/transport-node';
import { InvalidInputError } from '../../core/errors.js';
import type { CommonStoreConfig } from '../../core/types.js';

/** Configuration of `openNatsStore`. */
export interface NatsStoreConfig extends CommonStoreConfig {
  /** Server address(es), e.g. `127.0.0.1:4222` or `nats://host:4222`. Required unless `connection` is given. */
  servers?: string | string[];
  /**
   * Prefix of the JetStream stream names (`<stream>_<namespace>`): letters, digits and `-`,
   * 1..32 characters. Default `ordo`.
   */
  stream?: string;
  /** Replicas of the JetStream streams and the snapshot bucket (1..5, default 1). */
  replicas?: number;
  /**
   * An already open connection to use instead of opening one. The store never closes or drains
   * an injected connection: its owner does.
   */
  connection?: NatsConnection;
  /** Timeout of each request to the server in milliseconds (default 5000). */
  timeoutMs?: number;
  /**
   * How often live subscriptions poll for appends in ms (default 250). Appends of this connection
   * and notices of other processes wake them sooner; polling covers lost notices.
   */
  pollIntervalMs?: number;
}

/** A validated {@link NatsStoreConfig} with defaults applied. */
export interface ResolvedNatsConfig {
  servers: string[];
  prefix: string;
  replicas: number;
  namespace: string;
  timeoutMs: number;
  pollIntervalMs: number;
  connection: NatsConnection | undefined;
}

const PREFIX_PATTERN = /^[A-Za-z0-9-]{1,32}$/;

/** Validates the configuration; throws `InvalidInputError` naming the bad field. */
export function resolveNatsConfig(config: NatsStoreConfig): ResolvedNatsConfig {
  if (typeof config !== 'object' || config === null)
    throw new InvalidInputError('config', 'must be an object');
  const servers =
    config.servers === undefined ? [] : Array.isArray(config.servers) ? config.servers : [config.servers];
  if (
    !config.connection &&
    (servers.length === 0 || servers.some((s) => typeof s !== 'string' || s.length === 0))
  ) {
    throw new InvalidInputError('servers', 'must be a non-empty string or array of strings');
  }
  const prefix = config.stream ?? 'ordo';
  // No `_` in the prefix: the first `_` of a stream name then separates prefix and namespace unambiguously.
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new InvalidInputError('stream', `must match [A-Za-z0-9-]{1,32}, got ${JSON.stringify(prefix)}`);
  }
  const replicas = config.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new InvalidInputError('replicas', `must be an integer from 1 to 5, got ${String(replicas)}`);
  }
  const timeoutMs = config.timeoutMs ?? 5_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new InvalidInputError('timeoutMs', 'must be a positive integer');
  const pollIntervalMs = config.pollIntervalMs ?? 250;
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 1) {
    throw new InvalidInputError('pollIntervalMs', 'must be a positive integer');
  }
  return {
    servers: servers as string[],
    prefix,
    replicas,
    namespace: config.namespace ?? 'default',
    timeoutMs,
    pollIntervalMs,
    connection: config.connection,
  };
}
