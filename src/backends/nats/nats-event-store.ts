import { createHash, randomUUID } from 'node:crypto';
import type { JetStreamClient, JetStreamManager, JsMsg, StoredMsg } from '@nats-io/jetstream';
import {
  DeliverPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  StorageType,
} from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { Kvm } from '@nats-io/kv';
import type { MsgHdrs, NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import type {
  DriverReadAllOptions,
  EventStoreDriver,
  PreparedAppend,
  StoredRecord,
  StoredSnapshotRecord,
} from '../../core/driver.js';
import { DuplicateEventIdError } from '../../core/driver.js';
import { DriverEventStore } from '../../core/driver-event-store.js';
import {
  AppendConditionError,
  InvalidInputError,
  StoreClosedError,
  StoreUnavailableError,
  VersionConflictError,
} from '../../core/errors.js';
import { versionMatches } from '../../core/expected-version.js';
import { Notifier } from '../../core/notifier.js';
import { START } from '../../core/position.js';
import { matchesAny } from '../../core/query.js';
import type { AppendResult, EventQuery, EventStore, Position, StoreCapabilities } from '../../core/types.js';
import { assertNamespace } from '../../core/validation.js';
import { decodeCommit, encodeCommit } from './nats-commit.js';
import type { NatsStoreConfig, ResolvedNatsConfig } from './nats-config.js';
import { resolveNatsConfig } from './nats-config.js';
import { isWrongLastSequence, toStoreError } from './nats-errors.js';
import { AckPublisher } from './nats-publisher.js';
import { assertReplicasSupported } from './nats-server-version.js';
import {
  allCommitsSubject,
  allPartsSubject,
  appendNoticeSubject,
  commitSubject,
  natsStreamName,
  partSubject,
  snapshotKey,
  streamIdOfSubject,
} from './nats-subjects.js';

/** Header holding the stream version after the commit (so one direct get answers `streamVersion`). */
export const VERSION_HEADER = 'Ordo-Version';
/** Header holding the number of events in the commit. */
export const COUNT_HEADER = 'Ordo-Count';
/** Header holding the JetStream sequence of the stream's previous commit (0 for the first): a back link. */
export const PREVIOUS_HEADER = 'Ordo-Prev';
/** Header of a commit larger than one message: comma-separated sequences of its leading parts. */
export const PARTS_HEADER = 'Ordo-Parts';

const capabilities: StoreCapabilities = {
  durable: true,
  multiProcess: true,
  transactionalInline: false,
  corruptible: true,
};

/** Commits read back at most this many events from the head by following back links instead of a consumer. */
const WALK_BACK_EVENTS = 32;
/** Global reads of at most this many commits use parallel direct gets instead of a consumer. */
const DIRECT_READ_COMMITS = 16;
/**
 * Messages requested per pull of an ordered consumer (bounds on the size hint). Pulls are refilled
 * as messages are consumed; larger pulls over-deliver when a read stops at its limit early.
 */
const MAX_PULL_BATCH = 1_000;
const MIN_PULL_BATCH = 64;
/** Bound on compare-and-swap rounds of one append before it reports a conflict to the caller. */
const MAX_CAS_ROUNDS = 50;
/** Size of the per-connection cache of stream heads (a hint only; the server's CAS decides). */
const HEAD_CACHE_SIZE = 10_000;
/** Bytes kept free below the server's max_payload for the headers of a commit. */
const HEADER_ALLOWANCE = 4_096;

/** The newest commit of one stream. */
interface StreamHead {
  seq: number;
  version: number;
}

/** A commit as read from the server, before its events are decoded. */
interface RawCommit {
  seq: number;
  subject: string;
  lastVersion: number;
  count: number;
  previous: number;
  /** Sequences of the leading parts of a commit larger than one message (usually empty). */
  parts: number[];
  payload: Uint8Array;
}

/** What every namespace of one connection shares. */
interface Shared {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  kvm: Kvm;
  publisher: AckPublisher;
  config: ResolvedNatsConfig;
  notifier: Notifier;
  heads: Map<string, StreamHead>;
  ownsConnection: boolean;
  closed: boolean;
}

function headerNumber(headers: MsgHdrs | undefined, name: string): number {
  const value = headers?.get(name);
  const n = value === undefined || value === '' ? Number.NaN : Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : Number.NaN;
}

function headerParts(headers: MsgHdrs | undefined): number[] {
  const value = headers?.get(PARTS_HEADER);
  return value ? value.split(',').map(Number) : [];
}

function rawFromStored(m: StoredMsg): RawCommit {
  return {
    seq: m.seq,
    subject: m.subject,
    lastVersion: headerNumber(m.header, VERSION_HEADER),
    count: headerNumber(m.header, COUNT_HEADER),
    previous: headerNumber(m.header, PREVIOUS_HEADER),
    parts: headerParts(m.header),
    payload: m.data,
  };
}

function rawFromJs(m: JsMsg): RawCommit {
  return {
    seq: m.seq,
    subject: m.subject,
    lastVersion: headerNumber(m.headers, VERSION_HEADER),
    count: headerNumber(m.headers, COUNT_HEADER),
    previous: headerNumber(m.headers, PREVIOUS_HEADER),
    parts: headerParts(m.headers),
    payload: m.data,
  };
}

/** Where a global read starts: the first commit sequence and the first event index inside it. */
interface ReadStart {
  seq: number;
  index: number;
}

/**
 * Parses a position into where reading after it starts. `"<seq>"` precedes every event of commit
 * `seq`; `"<seq>.<i>[.…]"` lies between indexes `i` and `i + 1` of commit `seq`.
 */
function startAfter(after: Position): ReadStart {
  const parts = after.split('.');
  const seq = Number(parts[0]);
  if (seq === 0) return { seq: 1, index: 0 };
  if (parts.length === 1) return { seq, index: 0 };
  return { seq, index: Number(parts[1]) + 1 };
}

/**
 * The NATS JetStream driver. One JetStream stream per namespace (`<prefix>_<namespace>`), one
 * message per append on the subject of its event stream (see `nats-subjects.ts`), positions
 * `"<stream sequence>.<index in commit>"`.
 *
 * Guarantees: an append is one message, hence atomic; `expectedVersion` is enforced by the
 * server with `Nats-Expected-Last-Subject-Sequence` (a process-local head cache only saves a
 * round trip, a stale entry makes the server reject the publish); conditions additionally pin
 * the whole stream with `Nats-Expected-Last-Sequence` after evaluating the query up to that
 * sequence; appends whose events carry ids use a hash of stream id and ids as message id, so a
 * retried publish inside the stream's duplicate window is answered with the original commit.
 *
 * The public readonly fields give projections and tooling the connection, JetStream clients,
 * the stream name and the KV manager of this namespace.
 */
export class NatsDriver implements EventStoreDriver {
  readonly capabilities = capabilities;
  readonly pollIntervalMs: number;
  /** The NATS connection (shared by every namespace of this store). */
  readonly connection: NatsConnection;
  /** JetStream client of the connection. */
  readonly jetstream: JetStreamClient;
  /** JetStream manager of the connection. */
  readonly manager: JetStreamManager;
  /** KV manager of the connection (snapshot buckets, leases). */
  readonly kvm: Kvm;
  /** Name of this namespace's JetStream stream. */
  readonly streamName: string;
  /** Name of this namespace's snapshot KV bucket. */
  readonly snapshotBucket: string;
  readonly #shared: Shared;
  readonly #owner: boolean;
  #ready: Promise<void> | undefined;
  #snapshots: Promise<KV> | undefined;
  #notices: NatsSubscription | undefined;
  #watchers = 0;
  #announcing = false;

  constructor(
    readonly namespace: string,
    shared: Shared,
    owner: boolean,
  ) {
    this.#shared = shared;
    this.#owner = owner;
    this.pollIntervalMs = shared.config.pollIntervalMs;
    this.connection = shared.nc;
    this.jetstream = shared.js;
    this.manager = shared.jsm;
    this.kvm = shared.kvm;
    this.streamName = natsStreamName(shared.config.prefix, namespace);
    this.snapshotBucket = `${this.streamName}_snapshots`;
  }

  /** Ensures this namespace's JetStream stream exists with direct gets enabled (once per driver). */
  ready(): Promise<void> {
    this.#ready ??= this.#ensureStream().catch((error) => {
      this.#ready = undefined;
      throw toStoreError(error, 'stream setup', this.#shared.closed);
    });
    return this.#ready;
  }

  async #ensureStream(): Promise<void> {
    const { jsm, config } = this.#shared;
    const subjects = [allCommitsSubject(this.streamName), allPartsSubject(this.streamName)];
    try {
      const info = await jsm.streams.info(this.streamName);
      const missing = subjects.filter((s) => !info.config.subjects.includes(s));
      if (!info.config.allow_direct || missing.length > 0) {
        await jsm.streams.update(this.streamName, {
          ...info.config,
          allow_direct: true,
          subjects: [...info.config.subjects, ...missing],
        });
      }
      return;
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.status !== 404) throw error;
    }
    try {
      await jsm.streams.add({
        name: this.streamName,
        subjects,
        allow_direct: true,
        storage: StorageType.File,
        num_replicas: config.replicas,
        // Message ids of retried appends are remembered this long (nanoseconds).
        duplicate_window: 120_000_000_000,
      });
    } catch (error) {
      // Another process created it between our info and add: fine if it is there now.
      await jsm.streams.info(this.streamName).catch(() => {
        throw error;
      });
    }
  }

  #assertOpen(): void {
    if (this.#shared.closed) throw new StoreClosedError();
  }

  #fail(error: unknown, operation: string): Error {
    return toStoreError(error, operation, this.#shared.closed);
  }

  async #directGet(
    query: { seq: number } | { last_by_subj: string } | { seq: number; next_by_subj: string },
  ): Promise<RawCommit | null> {
    const m = await this.#shared.jsm.direct.getMessage(this.streamName, query);
    return m ? rawFromStored(m) : null;
  }

  /** The newest commit of a stream, straight from the server (one direct get). */
  async #fetchHead(subject: string): Promise<RawCommit | null> {
    const raw = await this.#directGet({ last_by_subj: subject });
    if (raw && !Number.isSafeInteger(raw.lastVersion)) {
      throw new StoreUnavailableError(
        `commit ${raw.seq} on ${subject} has no valid ${VERSION_HEADER} header`,
      );
    }
    return raw;
  }

  #cacheHead(streamId: string, head: StreamHead): void {
    const heads = this.#shared.heads;
    const key = `${this.namespace}\u0000${streamId}`;
    heads.delete(key);
    heads.set(key, head);
    if (heads.size > HEAD_CACHE_SIZE) heads.delete(heads.keys().next().value!);
  }

  #cachedHead(streamId: string): StreamHead | undefined {
    return this.#shared.heads.get(`${this.namespace}\u0000${streamId}`);
  }

  async append(append: PreparedAppend): Promise<AppendResult> {
    this.#assertOpen();
    const { streamId, events, expectedVersion, condition } = append;
    const subject = commitSubject(this.streamName, streamId);
    const payload = encodeCommit(streamId, append.timestamp.getTime(), events);
    const partBytes = (this.#shared.nc.info?.max_payload ?? 1024 * 1024) - subject.length - HEADER_ALLOWANCE;
    const msgID = events.some((e) => e.idGiven)
      ? commitId(
          this.streamName,
          streamId,
          events.map((e) => e.id),
        )
      : undefined;
    let parts: number[] = [];
    let last = payload;
    // Parts may be deleted only when no final message referencing them can have been stored.
    let partsInUse = false;
    try {
      await this.ready();
      if (payload.length > partBytes) {
        // Too large for one message: the leading parts go to a subject readers never scan; only the
        // final message (with the CAS) makes the commit visible, so the append stays atomic.
        parts = await this.#publishParts(payload, partBytes);
        last = payload.subarray(parts.length * partBytes);
      }
      // Without a cached head, a stream that may be new is guessed empty: the server's CAS checks the guess.
      let head: StreamHead | undefined = this.#cachedHead(streamId);
      let fresh = false;
      if (!head && (expectedVersion === 'any' || expectedVersion === 'no_stream' || expectedVersion === 0)) {
        head = { seq: 0, version: 0 };
      }
      // Where the condition's next evaluation starts: only commits that arrived since the last round.
      let conditionFrom = startAfter(condition?.after ?? START);
      for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
        if (!head) {
          const raw = await this.#fetchHead(subject);
          head = raw ? { seq: raw.seq, version: raw.lastVersion } : { seq: 0, version: 0 };
          fresh = true;
          // A caller retrying after a conflict expects this version: its next publish needs no read.
          this.#cacheHead(streamId, head);
        }
        if (!versionMatches(expectedVersion, head.version)) {
          if (fresh) throw new VersionConflictError(streamId, expectedVersion, head.version);
          head = undefined;
          continue;
        }
        let lastSequence: number | undefined;
        if (condition) {
          lastSequence = await this.#checkCondition(
            streamId,
            condition.queries,
            condition.after,
            conditionFrom,
          );
          conditionFrom = { seq: Math.max(conditionFrom.seq, lastSequence + 1), index: 0 };
        }
        if (msgID) await this.#assertIdsUnused(streamId, subject, events, head.seq);
        const h = natsHeaders();
        const lastVersion = head.version + events.length;
        h.set(VERSION_HEADER, String(lastVersion));
        h.set(COUNT_HEADER, String(events.length));
        h.set(PREVIOUS_HEADER, String(head.seq));
        if (parts.length > 0) h.set(PARTS_HEADER, parts.join(','));
        let ack: { seq: number; duplicate: boolean };
        try {
          partsInUse = true; // from here on, a lost acknowledgement leaves the outcome unknown
          if (msgID) h.set('Nats-Msg-Id', msgID);
          h.set('Nats-Expected-Last-Subject-Sequence', String(head.seq));
          if (lastSequence !== undefined) h.set('Nats-Expected-Last-Sequence', String(lastSequence));
          ack = await this.#shared.publisher.publish(subject, last, h);
        } catch (error) {
          if (!isWrongLastSequence(error)) throw error;
          partsInUse = false; // refused by the server: nothing references the parts
          // The stream (or, for conditions, the namespace) moved: learn the real head and decide again.
          head = undefined;
          continue;
        }
        // A deduplicated publish stored nothing: the original commit has parts of its own.
        partsInUse = !ack.duplicate;
        if (ack.duplicate) return await this.#resultOfCommit(streamId, subject, ack.seq);
        this.#cacheHead(streamId, { seq: ack.seq, version: lastVersion });
        this.#shared.notifier.notify();
        this.#announce();
        return {
          streamId,
          firstVersion: head.version + 1,
          lastVersion,
          position: `${ack.seq}.${events.length - 1}`,
        };
      }
      const raw = await this.#fetchHead(subject);
      throw new VersionConflictError(streamId, expectedVersion, raw?.lastVersion ?? 0);
    } catch (error) {
      throw this.#fail(error, 'append');
    } finally {
      if (!partsInUse && parts.length > 0) this.#deleteParts(parts);
    }
  }

  /** Stores the leading parts of a large commit (invisible until the final message references them). */
  async #publishParts(payload: Uint8Array, partBytes: number): Promise<number[]> {
    const subject = partSubject(this.streamName, randomUUID());
    const seqs: number[] = [];
    for (let offset = 0; payload.length - offset > partBytes; offset += partBytes) {
      const ack = await this.#shared.publisher.publish(
        subject,
        payload.subarray(offset, offset + partBytes),
        natsHeaders(),
      );
      seqs.push(ack.seq);
    }
    return seqs;
  }

  /** Best effort: removes the parts of a commit that was not made (they are invisible either way). */
  #deleteParts(parts: number[]): void {
    for (const seq of parts)
      this.#shared.jsm.streams.deleteMessage(this.streamName, seq, false).catch(() => undefined);
  }

  /** The full payload of a commit (joins the parts of a commit larger than one message). */
  async #assemble(commit: RawCommit): Promise<RawCommit> {
    if (commit.parts.length === 0) return commit;
    const parts = await Promise.all(commit.parts.map((seq) => this.#directGet({ seq })));
    const prefix = `${this.streamName}.x.`;
    const chunks: Uint8Array[] = [];
    for (const [i, part] of parts.entries()) {
      // A missing or foreign part leaves the payload short, so the commit is reported as malformed.
      if (part?.subject.startsWith(prefix)) chunks.push(part.payload);
      else chunks.push(new Uint8Array(0));
      if (!part) chunks.push(new TextEncoder().encode(`missing part ${commit.parts[i]}`));
    }
    chunks.push(commit.payload);
    return { ...commit, parts: [], payload: Buffer.concat(chunks) };
  }

  /** Decodes a commit, fetching its parts first when it has any. */
  async #records(commit: RawCommit, streamId?: string): Promise<StoredRecord[]> {
    return this.#decode(commit.parts.length > 0 ? await this.#assemble(commit) : commit, streamId);
  }

  /**
   * Evaluates a condition over the commits after `from` up to the namespace's current last
   * sequence and returns that sequence (the publish then expects it as the stream's last
   * sequence, so a matching append that lands in between makes the server refuse ours).
   */
  async #checkCondition(
    streamId: string,
    queries: EventQuery[],
    originalAfter: Position | undefined,
    from: ReadStart,
  ): Promise<number> {
    // The pin is the stream's last sequence over every subject (commit parts included), which is
    // what the server compares `Nats-Expected-Last-Sequence` with.
    const last = await this.#directGet({ last_by_subj: `${this.streamName}.>` });
    const lastSeq = last?.seq ?? 0;
    const [match] = await this.#readRange(from, lastSeq, 1, queries);
    if (match) {
      throw new AppendConditionError(
        streamId,
        { failIfEventsMatch: queries, ...(originalAfter === undefined ? {} : { after: originalAfter }) },
        match.position,
      );
    }
    return lastSeq;
  }

  /**
   * For appends carrying caller-given ids: refuses ids the stream already holds (the core then
   * returns the original result or reports the reuse). Reads the stream's commits up to
   * `headSeq`, which the publish then pins by CAS, so a concurrent append cannot slip in between.
   */
  async #assertIdsUnused(
    streamId: string,
    subject: string,
    events: PreparedAppend['events'],
    headSeq: number,
  ): Promise<void> {
    if (headSeq === 0) return;
    const ids = events.filter((e) => e.idGiven).map((e) => e.id);
    const found = await this.#findIds(subject, ids, headSeq);
    if (found.length > 0) throw new DuplicateEventIdError(streamId, found[0]!.id);
  }

  /** The result of an earlier commit (answer to a deduplicated publish). */
  async #resultOfCommit(streamId: string, subject: string, seq: number): Promise<AppendResult> {
    const raw = await this.#directGet({ seq });
    if (
      !raw ||
      raw.subject !== subject ||
      !Number.isSafeInteger(raw.lastVersion) ||
      !Number.isSafeInteger(raw.count)
    ) {
      throw new StoreUnavailableError(
        `deduplicated append points at commit ${seq}, which is not a commit of this stream`,
      );
    }
    return {
      streamId,
      firstVersion: raw.lastVersion - raw.count + 1,
      lastVersion: raw.lastVersion,
      position: `${seq}.${raw.count - 1}`,
    };
  }

  async readStream(
    streamId: string,
    options: { fromVersion: number; toVersion?: number; limit: number; direction: 'forwards' | 'backwards' },
  ): Promise<StoredRecord[]> {
    this.#assertOpen();
    const subject = commitSubject(this.streamName, streamId);
    try {
      await this.ready();
      const head = await this.#fetchHead(subject);
      if (!head) return [];
      const top = head.lastVersion;
      let low: number;
      let high: number;
      if (options.direction === 'forwards') {
        low = Math.max(options.fromVersion, 1);
        high = Math.min(options.toVersion ?? top, top, low + options.limit - 1);
      } else {
        high = Math.min(options.fromVersion, top);
        low = Math.max(options.toVersion ?? 1, 1, high - options.limit + 1);
      }
      if (low > high) return [];
      const commits =
        top - low < WALK_BACK_EVENTS
          ? await this.#walkBack(head, low)
          : await this.#scanStream(subject, head, low, high);
      const records: StoredRecord[] = [];
      for (const commit of commits) {
        for (const record of await this.#records(commit, streamId)) {
          if (record.version >= low && record.version <= high) records.push(record);
        }
      }
      return options.direction === 'forwards' ? records : records.reverse();
    } catch (error) {
      throw this.#fail(error, 'readStream');
    }
  }

  /** Commits from `head` back to the one holding version `low`, in version order (follows back links). */
  async #walkBack(head: RawCommit, low: number): Promise<RawCommit[]> {
    const commits = [head];
    let current = head;
    while (current.lastVersion - current.count + 1 > low && current.previous > 0) {
      const previous = await this.#directGet({ seq: current.previous });
      if (!previous)
        throw new StoreUnavailableError(
          `commit ${current.previous} (back link of ${current.seq}) is missing`,
        );
      commits.push(previous);
      current = previous;
    }
    return commits.reverse();
  }

  /**
   * Commits of one stream overlapping versions `low..high`, in version order: the commit holding
   * `low` is located by `#locate` (O(log n) direct gets), the rest is read with an
   * ordered consumer from there up to the head's sequence, so the cost follows the range read, not
   * the stream's length.
   */
  async #scanStream(subject: string, head: RawCommit, low: number, high: number): Promise<RawCommit[]> {
    const overlaps = (raw: RawCommit) => raw.lastVersion >= low && raw.lastVersion - raw.count + 1 <= high;
    const first = await this.#locate(subject, head, low);
    const commits: RawCommit[] = [];
    if (first && overlaps(first)) commits.push(first);
    if (first && first.lastVersion >= high) return commits;
    // Without a located commit (headers this backend did not write) the whole subject is scanned.
    const startSeq = first ? first.seq + 1 : 1;
    // Every commit holds at least one event, so this many commits are enough (a pull-size hint only).
    const expected = first ? high - first.lastVersion : MAX_PULL_BATCH;
    await this.#scan(
      subject,
      startSeq,
      head.seq,
      (raw) => {
        if (overlaps(raw)) commits.push(raw);
        // Versions are contiguous: nothing after the commit holding `high` is needed.
        return !(raw.lastVersion >= high);
      },
      Math.min(MAX_PULL_BATCH, expected),
    );
    return commits;
  }

  /**
   * The commit of one stream holding `version` (the first whose `Ordo-Version` reaches it), found
   * without reading the stream: a search over JetStream sequences where each probe is one direct
   * get of the stream's first commit at or after a sequence (`next_by_subj`). Probes alternate
   * between interpolation on versions (few probes when the stream's commits are spread evenly) and
   * bisection (at most about 2·log2(head sequence) probes in any case). Returns null when a probed
   * commit lacks valid version headers, so the caller falls back to a full scan.
   */
  async #locate(subject: string, head: RawCommit, version: number): Promise<RawCommit | null> {
    // Invariants: every commit before sequence `lo` ends below `version`, the newest of them at
    // `belowVersion`; no commit lies in `hi + 1 .. found.seq - 1`; `found` reaches `version`.
    let found = head;
    let lo = 1;
    let hi = head.seq - 1;
    let belowVersion = 0;
    for (let step = 0; ; step++) {
      const foundFirst = found.lastVersion - found.count + 1;
      if (!Number.isSafeInteger(foundFirst)) return null;
      if (foundFirst <= version || lo > hi) return found;
      let mid: number;
      if (belowVersion === version - 1) {
        // The wanted commit is the next one after `lo - 1`.
        mid = lo;
      } else if (step % 2 === 0) {
        const share = (version - belowVersion - 1) / Math.max(1, foundFirst - belowVersion - 1);
        mid = Math.min(hi, lo + Math.floor(share * (hi - lo + 1)));
      } else {
        mid = lo + Math.floor((hi - lo) / 2);
      }
      const commit = await this.#directGet({ seq: mid, next_by_subj: subject });
      if (!commit || commit.seq >= found.seq) {
        hi = mid - 1;
        continue;
      }
      if (!Number.isSafeInteger(commit.lastVersion) || !Number.isSafeInteger(commit.count)) return null;
      if (commit.lastVersion >= version) {
        found = commit;
        hi = mid - 1;
      } else {
        belowVersion = commit.lastVersion;
        lo = commit.seq + 1;
      }
    }
  }

  /**
   * Streams the commits on `filter` (one stream's subject, or `undefined` for every commit of the
   * namespace) from `startSeq` through `endSeq` with an ordered consumer (no per-message round
   * trips) until `visit` returns false. Throws `StoreUnavailableError` when the server stops
   * delivering for longer than the request timeout.
   */
  async #scan(
    filter: string | undefined,
    startSeq: number,
    endSeq: number,
    visit: (raw: RawCommit) => boolean | Promise<boolean>,
    expected = MAX_PULL_BATCH,
  ): Promise<void> {
    if (startSeq > endSeq) return;
    const { js, config } = this.#shared;
    const commitPrefix = `${this.streamName}.e.`;
    const consumer = await js.consumers.get(this.streamName, {
      // Whole-namespace reads take every message and skip parts here: a wildcard filter makes
      // nats-server 2.9 deliver up to a hundred times slower on large streams.
      ...(filter === undefined ? {} : { filter_subjects: filter }),
      // Ephemeral and in memory; the server drops it soon if this process dies mid-read.
      inactive_threshold: Math.max(10_000, 2 * config.timeoutMs),
      ...(startSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq } : {}),
    });
    // Nothing of `filter` from `startSeq` on (e.g. only parts of large commits): no message would come.
    if ((await consumer.info(true)).num_pending === 0) {
      consumer.delete().catch(() => undefined);
      return;
    }
    // Large pulls keep the server streaming; a read that needs few messages asks for few.
    const messages = await consumer.consume({
      max_messages: Math.min(MAX_PULL_BATCH, Math.max(MIN_PULL_BATCH, expected)),
    });
    let lastActivity = Date.now();
    let stalled = false;
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastActivity > config.timeoutMs) {
          stalled = true;
          messages.stop();
        }
      },
      Math.max(50, config.timeoutMs / 4),
    );
    try {
      for await (const m of messages) {
        lastActivity = Date.now();
        if (m.seq > endSeq) break;
        if (filter === undefined && !m.subject.startsWith(commitPrefix)) {
          if (m.seq >= endSeq || m.info.pending === 0) break;
          continue;
        }
        const visited = visit(rawFromJs(m));
        const more = typeof visited === 'boolean' ? visited : await visited;
        if (!more || m.seq >= endSeq || m.info.pending === 0) break;
      }
    } finally {
      clearInterval(watchdog);
      messages.stop();
      // Frees the server-side consumer now instead of after its inactivity threshold.
      consumer.delete().catch(() => undefined);
    }
    if (stalled)
      throw new StoreUnavailableError(
        `NATS stopped delivering ${filter ?? this.streamName} for ${config.timeoutMs} ms`,
      );
  }

  #decode(commit: RawCommit, streamId?: string): StoredRecord[] {
    try {
      if (!Number.isSafeInteger(commit.lastVersion) || !Number.isSafeInteger(commit.count)) {
        throw new TypeError('commit lacks version headers');
      }
      const records = decodeCommit(commit.payload, commit);
      if (records.length !== commit.count)
        throw new TypeError(`commit holds ${records.length} events, header says ${commit.count}`);
      return records;
    } catch (error) {
      // Reported, never hidden: a record whose data cannot decode makes the core list it as malformed.
      const count = Number.isSafeInteger(commit.count) && commit.count > 0 ? commit.count : 1;
      const lastVersion = Number.isSafeInteger(commit.lastVersion) ? commit.lastVersion : count;
      const raw = Buffer.from(commit.payload).toString('utf8');
      return Array.from({ length: count }, (_, i) => ({
        streamId: streamId ?? this.#streamIdOf(commit.subject),
        version: lastVersion - count + 1 + i,
        position: `${commit.seq}.${i}`,
        id: '',
        type: '',
        data: `\u0000undecodable commit: ${error instanceof Error ? error.message : String(error)}: ${raw.slice(0, 200)}`,
        metadata: '{}',
        tags: [],
        timestamp: 0,
      }));
    }
  }

  /** The stream id a commit subject encodes (the subject itself if it is not one of ours). */
  #streamIdOf(subject: string): string {
    try {
      return streamIdOfSubject(this.streamName, subject);
    } catch {
      return subject;
    }
  }

  async findByIds(streamId: string, ids: string[]): Promise<StoredRecord[]> {
    this.#assertOpen();
    const subject = commitSubject(this.streamName, streamId);
    try {
      await this.ready();
      const head = await this.#fetchHead(subject);
      if (!head) return [];
      return await this.#findIds(subject, ids, head.seq);
    } catch (error) {
      throw this.#fail(error, 'findByIds');
    }
  }

  /** Records of one stream (commits up to `headSeq`) carrying any of `ids`, in version order. */
  async #findIds(subject: string, ids: string[], headSeq: number): Promise<StoredRecord[]> {
    const wanted = new Set(ids);
    const found: StoredRecord[] = [];
    await this.#scan(subject, 1, headSeq, async (raw) => {
      for (const record of await this.#records(raw)) if (wanted.has(record.id)) found.push(record);
      return true;
    });
    return found;
  }

  async streamVersion(streamId: string): Promise<number> {
    this.#assertOpen();
    const subject = commitSubject(this.streamName, streamId);
    try {
      await this.ready();
      const head = await this.#fetchHead(subject);
      return head?.lastVersion ?? 0;
    } catch (error) {
      throw this.#fail(error, 'streamVersion');
    }
  }

  async readAll({ after, limit, filter }: DriverReadAllOptions): Promise<StoredRecord[]> {
    this.#assertOpen();
    try {
      await this.ready();
      const last = await this.#directGet({ last_by_subj: allCommitsSubject(this.streamName) });
      if (!last) return [];
      return await this.#readRange(startAfter(after), last.seq, limit, filter);
    } catch (error) {
      throw this.#fail(error, 'readAll');
    }
  }

  /** Events after `after` in commits up to `endSeq`, matching `filter`, at most `limit`. */
  async #readRange(
    start: ReadStart,
    endSeq: number,
    limit: number,
    filter: EventQuery[] | undefined,
  ): Promise<StoredRecord[]> {
    if (start.seq > endSeq) return [];
    const result: StoredRecord[] = [];
    const takeRecords = (raw: RawCommit): boolean => {
      const records = this.#decode(raw);
      for (let index = raw.seq === start.seq ? start.index : 0; index < records.length; index++) {
        const record = records[index]!;
        if (filter && !matchesAny(filter, record.type, record.tags)) continue;
        result.push(record);
        if (result.length >= limit) return false;
      }
      return true;
    };
    // Synchronous for ordinary commits: no promise per message on the hot read path.
    const take = (raw: RawCommit): boolean | Promise<boolean> =>
      raw.parts.length > 0 ? this.#assemble(raw).then(takeRecords) : takeRecords(raw);
    if (endSeq - start.seq < DIRECT_READ_COMMITS) {
      const seqs = Array.from({ length: endSeq - start.seq + 1 }, (_, i) => start.seq + i);
      const commits = await Promise.all(seqs.map((seq) => this.#directGet({ seq })));
      const commitPrefix = `${this.streamName}.e.`;
      for (const commit of commits) {
        // Parts of large commits share the sequence space; only commit subjects hold events.
        if (commit?.subject.startsWith(commitPrefix) && !(await take(commit))) break;
      }
      return result;
    }
    // Without a filter every commit yields at least one event, so `limit` commits are enough.
    const expected = filter ? MAX_PULL_BATCH : Math.min(limit, endSeq - start.seq + 1);
    await this.#scan(undefined, start.seq, endSeq, take, expected);
    return result;
  }

  async headPosition(): Promise<Position> {
    this.#assertOpen();
    try {
      await this.ready();
      const last = await this.#directGet({ last_by_subj: allCommitsSubject(this.streamName) });
      if (!last) return START;
      const count = Number.isSafeInteger(last.count) && last.count > 0 ? last.count : 1;
      return `${last.seq}.${count - 1}`;
    } catch (error) {
      throw this.#fail(error, 'headPosition');
    }
  }

  /** This namespace's snapshot bucket (created on first use, one value per stream, no history). */
  snapshots(): Promise<KV> {
    this.#snapshots ??= this.#shared.kvm
      .create(this.snapshotBucket, { history: 1, replicas: this.#shared.config.replicas })
      .catch((error) => {
        this.#snapshots = undefined;
        throw error;
      });
    return this.#snapshots;
  }

  async saveSnapshot(streamId: string, snapshot: StoredSnapshotRecord): Promise<void> {
    this.#assertOpen();
    const head = JSON.stringify({ v: snapshot.version, s: snapshot.schema, t: snapshot.timestamp });
    const value = Buffer.from(`${head}\n${snapshot.state}`);
    const maxPayload = this.#shared.nc.info?.max_payload ?? 1024 * 1024;
    if (value.length + HEADER_ALLOWANCE > maxPayload) {
      throw new InvalidInputError(
        'snapshot.state',
        `is ${value.length} bytes; the NATS server accepts at most ${maxPayload - HEADER_ALLOWANCE}`,
      );
    }
    try {
      const kv = await this.snapshots();
      await kv.put(snapshotKey(streamId), value);
    } catch (error) {
      throw this.#fail(error, 'saveSnapshot');
    }
  }

  async loadSnapshot(streamId: string): Promise<StoredSnapshotRecord | null> {
    this.#assertOpen();
    let entry: Awaited<ReturnType<KV['get']>>;
    try {
      const kv = await this.snapshots();
      entry = await kv.get(snapshotKey(streamId));
    } catch (error) {
      throw this.#fail(error, 'loadSnapshot');
    }
    if (entry?.operation !== 'PUT' || entry.value.length === 0) return null;
    const text = Buffer.from(entry.value).toString('utf8');
    const newline = text.indexOf('\n');
    const head = JSON.parse(text.slice(0, newline)) as { v: number; s: string; t: number };
    return { version: head.v, schema: head.s, timestamp: head.t, state: text.slice(newline + 1) };
  }

  /**
   * Test hook: replaces the data of the event at `version` with undecodable text. JetStream
   * messages are immutable, so the commit holding it and every later commit of the stream are
   * deleted and published again in order (their positions change). Not safe under concurrent appends.
   */
  async corrupt(streamId: string, version: number, raw = '{not json'): Promise<void> {
    const subject = commitSubject(this.streamName, streamId);
    const head = await this.#fetchHead(subject);
    if (!head) throw new Error(`no stream ${streamId}`);
    const commits: RawCommit[] = [];
    await this.#scan(subject, 1, head.seq, (commit) => {
      if (commit.lastVersion >= version) commits.push(commit);
      return true;
    });
    if (commits.length === 0) throw new Error(`no record ${streamId}@${version}`);
    let previous = commits[0]!.previous;
    for (const commit of commits) {
      const records = await this.#records(commit);
      for (const record of records) if (record.version === version) record.data = raw;
      const payload = encodeCommit(
        streamId,
        records[0]!.timestamp,
        records.map((r) => ({
          id: r.id,
          idGiven: true,
          type: r.type,
          data: r.data,
          metadata: r.metadata,
          tags: r.tags,
        })),
      );
      for (const seq of [...commit.parts, commit.seq])
        await this.#shared.jsm.streams.deleteMessage(this.streamName, seq, false);
      const h = natsHeaders();
      h.set(VERSION_HEADER, String(commit.lastVersion));
      h.set(COUNT_HEADER, String(commit.count));
      h.set(PREVIOUS_HEADER, String(previous));
      previous = (await this.#shared.publisher.publish(subject, payload, h)).seq;
    }
    this.#shared.heads.delete(`${this.namespace}\u0000${streamId}`);
  }

  /**
   * Wakes `listener` after appends to this namespace: at once for appends of this connection, and
   * through a core NATS notice (sent after the acknowledgement, so the commit is readable) for
   * appends of other processes. Polling remains the fallback if a notice is lost.
   */
  onAppend(listener: () => void): () => void {
    const { nc, notifier } = this.#shared;
    const unlisten = notifier.listen(listener);
    this.#watchers++;
    if (!this.#notices && !nc.isClosed()) {
      this.#notices = nc.subscribe(appendNoticeSubject(this.streamName), {
        callback: () => notifier.notify(),
      });
    }
    let registered = true;
    return () => {
      if (!registered) return;
      registered = false;
      unlisten();
      if (--this.#watchers === 0 && this.#notices) {
        if (!this.#notices.isClosed() && !nc.isClosed()) this.#notices.unsubscribe();
        this.#notices = undefined;
      }
    };
  }

  /** Publishes one append notice per event-loop turn, however many appends completed in it. */
  #announce(): void {
    if (this.#announcing) return;
    this.#announcing = true;
    setImmediate(() => {
      this.#announcing = false;
      const { nc } = this.#shared;
      // Best effort: a lost notice only delays other processes' subscriptions until their next poll.
      if (!nc.isClosed()) nc.publish(appendNoticeSubject(this.streamName));
    });
  }

  withNamespace(namespace: string): EventStoreDriver {
    assertNamespace(namespace);
    return new NatsDriver(namespace, this.#shared, false);
  }

  async close(): Promise<void> {
    if (!this.#owner || this.#shared.closed) return;
    this.#shared.closed = true;
    this.#shared.publisher.close();
    if (this.#shared.ownsConnection && !this.#shared.nc.isClosed()) {
      await this.#shared.nc.drain().catch(() => this.#shared.nc.close());
    }
  }
}

/** Message id of an append whose events carry ids: the same ids on the same stream give the same id. */
function commitId(streamName: string, streamId: string, ids: string[]): string {
  const hash = createHash('sha256');
  hash.update(streamName).update('\u0000').update(streamId);
  for (const id of ids) hash.update('\u0000').update(id);
  return hash.digest('base64url');
}

/**
 * Opens an event store on NATS JetStream (nats-server 2.9+ with JetStream; `replicas > 1` needs
 * 2.9.21+ and is refused on older servers with `InvalidInputError`). Creates the namespace's
 * stream if missing. Appends are atomic single messages checked by the server's expected
 * sequence headers, so several processes may append to the same streams safely. `close()`
 * drains the connection only when this call opened it.
 */
export async function openNatsStore(config: NatsStoreConfig): Promise<EventStore> {
  const resolved = resolveNatsConfig(config);
  assertNamespace(resolved.namespace);
  let nc = resolved.connection;
  const ownsConnection = nc === undefined;
  if (!nc) {
    try {
      nc = await connect({
        servers: resolved.servers,
        name: 'ordo',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout: resolved.timeoutMs,
      });
    } catch (error) {
      throw new StoreUnavailableError(`cannot connect to NATS at ${resolved.servers.join(', ')}`, {
        cause: error,
      });
    }
  }
  try {
    assertReplicasSupported(resolved.replicas, nc.info?.version);
    const jsm = await jetstreamManager(nc, { timeout: resolved.timeoutMs, checkAPI: false });
    const shared: Shared = {
      nc,
      js: jetstream(nc, { timeout: resolved.timeoutMs }),
      jsm,
      kvm: new Kvm(nc),
      publisher: new AckPublisher(nc, resolved.timeoutMs),
      config: resolved,
      notifier: new Notifier(),
      heads: new Map(),
      ownsConnection,
      closed: false,
    };
    const driver = new NatsDriver(resolved.namespace, shared, true);
    await driver.ready();
    return new DriverEventStore(driver);
  } catch (error) {
    if (ownsConnection) await nc.close().catch(() => undefined);
    throw toStoreError(error, 'open', false);
  }
}
