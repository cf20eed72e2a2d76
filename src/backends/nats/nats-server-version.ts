import { InvalidInputError } from '../../core/errors.js';

/**
 * Oldest server whose clustered (replicas > 1) expected-sequence checks are serialisable. Older
 * clustered servers could accept two publishes expecting the same last sequence.
 */
export const MIN_CLUSTERED_SERVER_VERSION = '2.9.21';

/** Compares dotted numeric versions (`2.10.3` > `2.9.21`); pre-release suffixes are ignored. */
export function compareServerVersions(a: string, b: string): number {
  const parse = (v: string) =>
    v
      .replace(/^v/, '')
      .split(/[-+]/)[0]!
      .split('.')
      .map((p) => Number.parseInt(p, 10) || 0);
  const left = parse(a);
  const right = parse(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const d = (left[i] ?? 0) - (right[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Throws `InvalidInputError` when `replicas > 1` is asked of a server older than
 * {@link MIN_CLUSTERED_SERVER_VERSION}, whose clustered compare-and-swap is not serialisable.
 * Single-replica streams are accepted on every JetStream server.
 */
export function assertReplicasSupported(replicas: number, serverVersion: string | undefined): void {
  if (replicas <= 1) return;
  if (serverVersion === undefined || compareServerVersions(serverVersion, MIN_CLUSTERED_SERVER_VERSION) < 0) {
    throw new InvalidInputError(
      'replicas',
      `replicas=${replicas} needs nats-server ${MIN_CLUSTERED_SERVER_VERSION} or newer (this server is ${serverVersion ?? 'unknown'}): ` +
        'older clustered servers do not serialise expected-sequence checks, so optimistic concurrency would not hold',
    );
  }
}
