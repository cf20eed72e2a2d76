import { v7 as uuidv7 } from 'uuid';
import type { PreparedAppend, PreparedEvent } from './driver.js';
import { InvalidInputError } from './errors.js';
import { describeValue, serializeJson } from './json.js';
import { limits } from './limits.js';
import { assertPosition } from './position.js';
import type {
  AppendOptions,
  EventFilter,
  EventQuery,
  ExpectedVersion,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
} from './types.js';

const encoder = new TextEncoder();

/** Throws `InvalidInputError` unless the id is a string of 1..512 UTF-8 bytes (no lone surrogates). */
export function assertStreamId(streamId: unknown, field = 'streamId'): asserts streamId is string {
  if (typeof streamId !== 'string') throw new InvalidInputError(field, 'must be a string');
  if (streamId.length === 0) throw new InvalidInputError(field, 'must not be empty');
  if (!streamId.isWellFormed()) throw new InvalidInputError(field, 'contains a lone surrogate');
  if (streamId.includes('\u0000')) throw new InvalidInputError(field, 'must not contain NUL');
  const bytes = encoder.encode(streamId).length;
  if (bytes > limits.maxStreamIdBytes) {
    throw new InvalidInputError(field, `is ${bytes} bytes; at most ${limits.maxStreamIdBytes} allowed`);
  }
}

/** Throws unless `value` is a valid namespace name (letters, digits, `-` and `_`, 1..64). */
export function assertNamespace(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    throw new InvalidInputError('namespace', `must match [A-Za-z0-9_-]{1,64}, got ${describeValue(value)}`);
  }
}

function assertShortString(value: unknown, field: string, max: number): asserts value is string {
  if (typeof value !== 'string' || value.length === 0)
    throw new InvalidInputError(field, 'must be a non-empty string');
  if (value.length > max) throw new InvalidInputError(field, `longer than ${max} characters`);
  if (!value.isWellFormed() || value.includes('\u0000'))
    throw new InvalidInputError(field, 'is not well-formed text');
}

export function assertExpectedVersion(value: unknown): asserts value is ExpectedVersion {
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return;
  throw new InvalidInputError(
    'expectedVersion',
    `must be a non-negative integer, 'any', 'no_stream' or 'stream_exists', got ${describeValue(value)}`,
  );
}

/** Validates one query; returns it with defensive copies of its arrays. */
export function normalizeQuery(query: unknown, field: string): EventQuery {
  if (typeof query !== 'object' || query === null || Array.isArray(query)) {
    throw new InvalidInputError(field, 'must be an object with optional types and tags');
  }
  const { types, tags, ...rest } = query as Record<string, unknown>;
  const unknownKeys = Object.keys(rest);
  if (unknownKeys.length > 0) throw new InvalidInputError(field, `unknown keys: ${unknownKeys.join(', ')}`);
  const result: EventQuery = {};
  if (types !== undefined) {
    if (!Array.isArray(types)) throw new InvalidInputError(`${field}.types`, 'must be an array');
    for (let i = 0; i < types.length; i++)
      assertShortString(types[i], `${field}.types[${i}]`, limits.maxEventTypeLength);
    result.types = [...(types as string[])];
  }
  if (tags !== undefined) {
    if (!Array.isArray(tags)) throw new InvalidInputError(`${field}.tags`, 'must be an array');
    for (let i = 0; i < tags.length; i++)
      assertShortString(tags[i], `${field}.tags[${i}]`, limits.maxTagLength);
    result.tags = [...(tags as string[])];
  }
  return result;
}

/** Validates a filter (`EventQuery | EventQuery[]`) and returns the list of queries, or undefined for none. */
export function normalizeFilter(filter: EventFilter | undefined, field = 'filter'): EventQuery[] | undefined {
  if (filter === undefined) return undefined;
  if (Array.isArray(filter)) {
    if (filter.length === 0) throw new InvalidInputError(field, 'must contain at least one query');
    return Array.from(filter, (q, i) => normalizeQuery(q, `${field}[${i}]`));
  }
  return [normalizeQuery(filter, field)];
}

function prepareEvent(event: unknown, index: number): { prepared: PreparedEvent; bytes: number } {
  const field = `events[${index}]`;
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InvalidInputError(field, 'must be an object');
  }
  const e = event as NewEvent;
  assertShortString(e.type, `${field}.type`, limits.maxEventTypeLength);
  if (!('data' in e) || e.data === undefined) throw new InvalidInputError(`${field}.data`, 'is required');
  const data = serializeJson(e.data, `${field}.data`);
  if (
    e.metadata !== undefined &&
    (typeof e.metadata !== 'object' || e.metadata === null || Array.isArray(e.metadata))
  ) {
    throw new InvalidInputError(`${field}.metadata`, 'must be an object');
  }
  const metadata = serializeJson(e.metadata ?? {}, `${field}.metadata`);
  if (e.id !== undefined) assertShortString(e.id, `${field}.id`, limits.maxEventIdLength);
  const tags = e.tags ?? [];
  if (!Array.isArray(tags)) throw new InvalidInputError(`${field}.tags`, 'must be an array of strings');
  if (tags.length > limits.maxTagsPerEvent)
    throw new InvalidInputError(`${field}.tags`, `at most ${limits.maxTagsPerEvent} tags`);
  for (let i = 0; i < tags.length; i++)
    assertShortString(tags[i], `${field}.tags[${i}]`, limits.maxTagLength);
  const bytes = Buffer.byteLength(data) + Buffer.byteLength(metadata);
  if (bytes > limits.maxEventBytes) {
    throw new InvalidInputError(
      field,
      `is ${bytes} bytes serialized; at most ${limits.maxEventBytes} allowed`,
    );
  }
  return {
    prepared: {
      // Time-ordered (UUIDv7): generated ids land at the end of per-stream id indexes, not at random pages.
      id: e.id ?? uuidv7(),
      idGiven: e.id !== undefined,
      type: e.type,
      data,
      metadata,
      tags: [...new Set(tags)],
    },
    bytes,
  };
}

/** Validates an append completely (nothing is written before this returns). */
export function prepareAppend(
  streamId: unknown,
  events: unknown,
  options: AppendOptions | undefined,
): PreparedAppend {
  assertStreamId(streamId);
  if (!Array.isArray(events)) throw new InvalidInputError('events', 'must be an array');
  if (events.length === 0) throw new InvalidInputError('events', 'must contain at least one event');
  if (events.length > limits.maxEventsPerAppend) {
    throw new InvalidInputError('events', `at most ${limits.maxEventsPerAppend} events per append`);
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidInputError('options', 'must be an object');
  }
  // Only an absent value means 'any': null or other junk must be rejected, not defaulted.
  const expectedVersion = options?.expectedVersion === undefined ? 'any' : options.expectedVersion;
  assertExpectedVersion(expectedVersion);
  let total = 0;
  const prepared: PreparedEvent[] = [];
  // A plain loop, not map: holes of sparse arrays must be rejected, not skipped.
  for (let index = 0; index < events.length; index++) {
    const { prepared: p, bytes } = prepareEvent(events[index], index);
    total += bytes;
    prepared.push(p);
  }
  if (total > limits.maxAppendBytes) {
    throw new InvalidInputError(
      'events',
      `append is ${total} bytes serialized; at most ${limits.maxAppendBytes} allowed`,
    );
  }
  const ids = new Set<string>();
  prepared.forEach((p, i) => {
    if (ids.has(p.id))
      throw new InvalidInputError(`events[${i}].id`, `duplicate id ${p.id} within one append`);
    ids.add(p.id);
  });
  const result: PreparedAppend = { streamId, events: prepared, expectedVersion, timestamp: new Date() };
  const condition = options?.condition;
  if (condition !== undefined) {
    if (typeof condition !== 'object' || condition === null)
      throw new InvalidInputError('condition', 'must be an object');
    const queries = normalizeFilter(condition.failIfEventsMatch, 'condition.failIfEventsMatch');
    if (!queries) throw new InvalidInputError('condition.failIfEventsMatch', 'is required');
    if (condition.after !== undefined) assertPosition(condition.after, 'condition.after');
    result.condition = condition.after === undefined ? { queries } : { queries, after: condition.after };
  }
  return result;
}

export function assertLimit(limit: unknown, field = 'limit'): asserts limit is number | undefined {
  if (limit === undefined) return;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidInputError(field, `must be a positive integer, got ${describeValue(limit)}`);
  }
}

function assertVersionBound(value: unknown, field: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(field, `must be a non-negative integer, got ${describeValue(value)}`);
  }
}

export function validateReadStreamOptions(options: ReadStreamOptions | undefined): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null)
    throw new InvalidInputError('options', 'must be an object');
  assertVersionBound(options.fromVersion, 'fromVersion');
  assertVersionBound(options.toVersion, 'toVersion');
  assertLimit(options.limit);
  if (
    options.direction !== undefined &&
    options.direction !== 'forwards' &&
    options.direction !== 'backwards'
  ) {
    throw new InvalidInputError('direction', `must be 'forwards' or 'backwards'`);
  }
}

export function validateReadAllOptions(options: ReadAllOptions | undefined): EventQuery[] | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null)
    throw new InvalidInputError('options', 'must be an object');
  if (options.after !== undefined) assertPosition(options.after, 'after');
  assertLimit(options.limit);
  return normalizeFilter(options.filter);
}
