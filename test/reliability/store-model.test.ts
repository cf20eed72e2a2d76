import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppendConditionFailure, isVersionConflict } from '../../src/core/errors.js';
import { versionMatches } from '../../src/core/expected-version.js';
import { comparePositions } from '../../src/core/position.js';
import type { EventStore, ExpectedVersion, Position } from '../../src/core/types.js';
import { openStore } from '../../src/open-store.js';
import { describeWithService } from '../support/services.js';
import { openIsolated, type ReliabilityTarget, targets } from './targets.js';

/**
 * Model-based property test: random sequences of appends (all expected-version forms, conditions,
 * idempotent retries) and reads run against a real backend and against a trivial in-memory model;
 * every answer of the backend must equal the model's.
 */

const STREAM_IDS = ['a', 'a.b', 'a_b', 'a b', 'a/b', '*', '>', '🦄'];
const TYPES = ['Opened', 'Changed', 'Closed'];

interface ModelEvent {
  streamId: string;
  version: number;
  type: string;
  id: string;
}

interface Model {
  streams: Map<string, ModelEvent[]>;
  log: ModelEvent[];
  lastAppend?: {
    streamId: string;
    ids: string[];
    types: string[];
    result: { firstVersion: number; lastVersion: number };
  };
}

interface Real {
  store: EventStore;
  /** Positions of the model's log entries as the store reported them. */
  positions: Position[];
}

type ExpectedKind = 'any' | 'no_stream' | 'stream_exists' | 'exact' | 'stale';

let counter = 0;
const freshId = () => `e-${process.pid}-${++counter}`;

function expectedFor(kind: ExpectedKind, current: number): ExpectedVersion {
  if (kind === 'exact') return current;
  if (kind === 'stale') return current === 0 ? 1 : current - 1;
  return kind;
}

class AppendCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly streamId: string,
    readonly types: string[],
    readonly kind: ExpectedKind,
    readonly withIds: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const current = model.streams.get(this.streamId)?.length ?? 0;
    const expectedVersion = expectedFor(this.kind, current);
    const ids = this.types.map(() => freshId());
    const events = this.types.map((type, i) => ({
      type,
      data: { i },
      ...(this.withIds ? { id: ids[i] } : {}),
    }));
    if (!versionMatches(expectedVersion, current)) {
      const error = await real.store
        .append(this.streamId, events, { expectedVersion })
        .catch((e: unknown) => e);
      expect(isVersionConflict(error)).toBe(true);
      expect(error).toMatchObject({ streamId: this.streamId, expectedVersion, currentVersion: current });
      return;
    }
    const result = await real.store.append(this.streamId, events, { expectedVersion });
    expect(result).toMatchObject({
      streamId: this.streamId,
      firstVersion: current + 1,
      lastVersion: current + this.types.length,
    });
    const stream = model.streams.get(this.streamId) ?? [];
    this.types.forEach((type, i) => {
      const event = { streamId: this.streamId, version: current + i + 1, type, id: ids[i]! };
      stream.push(event);
      model.log.push(event);
    });
    model.streams.set(this.streamId, stream);
    if (this.withIds) model.lastAppend = { streamId: this.streamId, ids, types: this.types, result };
    const last = real.positions[real.positions.length - 1];
    if (last !== undefined) expect(comparePositions(result.position, last)).toBeGreaterThan(0);
    // The store reports only the last position; read the others back in order.
    const appended = await real.store.readStream(this.streamId, { fromVersion: current + 1 });
    real.positions.push(...appended.map((e) => e.position));
  }
  toString = () => `append(${this.streamId}, [${this.types}], ${this.kind}, ids=${this.withIds})`;
}

class RetryLastAppendCommand implements fc.AsyncCommand<Model, Real> {
  check = (model: Readonly<Model>) => model.lastAppend !== undefined;
  async run(model: Model, real: Real): Promise<void> {
    const last = model.lastAppend!;
    const events = last.ids.map((id, i) => ({ id, type: last.types[i]!, data: { i } }));
    const result = await real.store.append(last.streamId, events, {
      expectedVersion: last.result.firstVersion - 1,
    });
    expect(result).toMatchObject(last.result);
  }
  toString = () => 'retryLastAppend';
}

class ConditionalAppendCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly streamId: string,
    readonly watchedType: string,
    readonly afterIndex: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const index = Math.min(this.afterIndex, model.log.length);
    const after = index === 0 ? undefined : real.positions[index - 1];
    const conflicting = model.log.slice(index).some((e) => e.type === this.watchedType);
    const condition = { failIfEventsMatch: { types: [this.watchedType] }, ...(after ? { after } : {}) };
    const outcome = await real.store
      .append(this.streamId, [{ type: 'Decided', data: null }], { condition })
      .catch((e: unknown) => e);
    if (conflicting) {
      expect(isAppendConditionFailure(outcome)).toBe(true);
      return;
    }
    expect(outcome).toMatchObject({ streamId: this.streamId });
    const current = model.streams.get(this.streamId)?.length ?? 0;
    const event = { streamId: this.streamId, version: current + 1, type: 'Decided', id: '' };
    model.streams.set(this.streamId, [...(model.streams.get(this.streamId) ?? []), event]);
    model.log.push(event);
    real.positions.push((outcome as { position: Position }).position);
  }
  toString = () => `conditionalAppend(${this.streamId}, ${this.watchedType}, after #${this.afterIndex})`;
}

class ReadStreamCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly streamId: string,
    readonly fromVersion: number,
    readonly limit: number,
    readonly backwards: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const stream = model.streams.get(this.streamId) ?? [];
    const read = await real.store.readStream(this.streamId, {
      fromVersion: this.backwards ? Math.max(stream.length - this.fromVersion + 1, 0) : this.fromVersion,
      limit: this.limit,
      direction: this.backwards ? 'backwards' : 'forwards',
    });
    const expected = this.backwards
      ? stream
          .slice(0, Math.max(stream.length - this.fromVersion + 1, 0))
          .reverse()
          .slice(0, this.limit)
      : stream.slice(this.fromVersion - 1, this.fromVersion - 1 + this.limit);
    expect(read.map((e) => [e.version, e.type])).toEqual(expected.map((e) => [e.version, e.type]));
    expect(await real.store.streamVersion(this.streamId)).toBe(stream.length);
  }
  toString = () =>
    `readStream(${this.streamId}, ${this.fromVersion}, ${this.limit}, ${this.backwards ? 'back' : 'fwd'})`;
}

class ReadAllCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly afterIndex: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const index = Math.min(this.afterIndex, model.log.length);
    const after = index === 0 ? undefined : real.positions[index - 1];
    const read = await real.store.readAll(after ? { after } : {});
    expect(read.map((e) => `${e.streamId}@${e.version}`)).toEqual(
      model.log.slice(index).map((e) => `${e.streamId}@${e.version}`),
    );
    for (let i = 1; i < read.length; i++)
      expect(comparePositions(read[i - 1]!.position, read[i]!.position)).toBeLessThan(0);
  }
  toString = () => `readAll(after #${this.afterIndex})`;
}

const streamArb = fc.constantFrom(...STREAM_IDS);
const commandArbs = [
  fc
    .tuple(
      streamArb,
      fc.array(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 3 }),
      fc.constantFrom<ExpectedKind>('any', 'no_stream', 'stream_exists', 'exact', 'stale'),
      fc.boolean(),
    )
    .map(([s, t, k, ids]) => new AppendCommand(s, t, k, ids)),
  fc.constant(new RetryLastAppendCommand()),
  fc
    .tuple(streamArb, fc.constantFrom(...TYPES), fc.nat(12))
    .map(([s, t, i]) => new ConditionalAppendCommand(s, t, i)),
  fc
    .tuple(streamArb, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.boolean())
    .map(([s, f, l, b]) => new ReadStreamCommand(s, f, l, b)),
  fc.nat(12).map((i) => new ReadAllCommand(i)),
];

function modelSuite(target: ReliabilityTarget): void {
  let root: EventStore;
  beforeAll(async () => {
    root = await openStore(target.url());
  });
  afterAll(async () => {
    await root?.close();
  });
  it('answers every random command sequence exactly like the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commandArbs, { maxCommands: 30, size: 'large' }), async (commands) => {
        const store = await openIsolated(target, root);
        await fc.asyncModelRun(
          () => ({ model: { streams: new Map(), log: [] }, real: { store, positions: [] } }),
          commands,
        );
      }),
      { numRuns: target.runs },
    );
  });
}

for (const target of targets) {
  const name = `store behaves like the model: ${target.name}`;
  if (target.service) describeWithService(target.service, name, () => modelSuite(target));
  else describe(name, () => modelSuite(target));
}
