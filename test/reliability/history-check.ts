/** One operation of a recorded concurrent history (times are wall-clock milliseconds, sub-ms precision). */
export type HistoryEntry =
  | {
      kind: 'append';
      process: number;
      streamId: string;
      eventId: string;
      expectedVersion: number | 'any';
      start: number;
      end: number;
      outcome: { ok: true; version: number } | { ok: false; code: string; currentVersion?: number };
    }
  | { kind: 'read'; process: number; streamId: string; start: number; end: number; ids: string[] };

export interface HistoryCheckResult {
  violations: string[];
  acknowledged: number;
  conflicts: number;
  reads: number;
}

/**
 * Checks a history of concurrent appends and reads against the final content of each stream:
 * every acknowledged append is in the final stream at its acknowledged version (so versions are
 * unique), final versions are contiguous, no unacknowledged-and-failed event is stored, every read
 * is a prefix of the final stream, and a read that started after an append was acknowledged sees it
 * (real-time order: the store is linearizable for appends and stream reads).
 */
export function checkHistory(
  history: HistoryEntry[],
  finalStreams: Map<string, string[]>,
): HistoryCheckResult {
  const violations: string[] = [];
  let acknowledged = 0;
  let conflicts = 0;
  let reads = 0;
  const appends = history.filter((h) => h.kind === 'append');
  for (const entry of appends) {
    const final = finalStreams.get(entry.streamId) ?? [];
    const storedAt = final.indexOf(entry.eventId);
    if (entry.outcome.ok) {
      acknowledged++;
      if (storedAt + 1 !== entry.outcome.version) {
        violations.push(
          `append ${entry.eventId} acknowledged at v${entry.outcome.version} but stored at v${storedAt + 1}`,
        );
      }
      if (entry.expectedVersion !== 'any' && entry.outcome.version !== entry.expectedVersion + 1) {
        violations.push(
          `append ${entry.eventId} expected v${entry.expectedVersion} but got v${entry.outcome.version}`,
        );
      }
    } else {
      if (entry.outcome.code === 'VERSION_CONFLICT') conflicts++;
      // A typed rejection (conflict, bad input) must not have written anything.
      if (entry.outcome.code !== 'STORE_UNAVAILABLE' && storedAt >= 0) {
        violations.push(
          `append ${entry.eventId} failed with ${entry.outcome.code} but is stored at v${storedAt + 1}`,
        );
      }
    }
  }
  for (const [streamId, ids] of finalStreams) {
    if (new Set(ids).size !== ids.length) violations.push(`stream ${streamId} holds a duplicate event`);
  }
  for (const entry of history) {
    if (entry.kind !== 'read') continue;
    reads++;
    const final = finalStreams.get(entry.streamId) ?? [];
    const isPrefix = entry.ids.every((id, i) => final[i] === id);
    if (!isPrefix)
      violations.push(
        `read by process ${entry.process} of ${entry.streamId} is not a prefix of the final stream`,
      );
    for (const append of appends) {
      if (append.streamId !== entry.streamId || !append.outcome.ok || append.end >= entry.start) continue;
      if (entry.ids.length < append.outcome.version) {
        violations.push(
          `read of ${entry.streamId} started after v${append.outcome.version} was acknowledged but saw only ${entry.ids.length} events`,
        );
        break;
      }
    }
  }
  return { violations, acknowledged, conflicts, reads };
}
