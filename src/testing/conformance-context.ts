import { randomUUID } from 'node:crypto';
import { it } from 'vitest';
import { InvalidInputError } from '../core/errors.js';
import { comparePositions } from '../core/position.js';
import type { EventStore, NewEvent, Position, RecordedEvent } from '../core/types.js';
import type { ConformanceConfig } from './conformance-config.js';

/** Default bound of one conformance test; generous because CI machines have 2 busy cores. */
export const CASE_TIMEOUT_MS = 20_000;

/**
 * What every case file receives: the config, the root store opened once per suite, and helpers
 * that isolate each test in a fresh namespace with random stream ids.
 */
export interface ConformanceContext {
  readonly config: ConformanceConfig;
  /** Scale factor for the heavier cases (at least 0.1). */
  readonly scale: number;
  /** The store returned by `config.create()`; opened before the cases run. */
  root(): EventStore;
  /** A store over the root's connection in a namespace no other test uses (see {@link trackAppends}). */
  fresh(): EventStore;
  /** A store over the root's connection in the given namespace (see {@link trackAppends}). */
  namespace(name: string): EventStore;
  /**
   * Registers one test named `name`. When `config.skip` has a reason for the test's name or its
   * case (file) name, or `unsupported` gives one, it is registered with `it.skip` and the reason
   * in its name: nothing is skipped silently.
   */
  test(name: string, body: () => Promise<void>, options?: CaseOptions): void;
}

/** Per-test options of {@link ConformanceContext.test}. */
export interface CaseOptions {
  timeout?: number;
  /** Why the backend under test cannot run this test (decided from its capabilities or config). */
  unsupported?: string | undefined;
}

/** A namespace name no other test run uses (namespaces allow `[A-Za-z0-9_-]{1,64}`). */
export function randomNamespace(prefix = 'c'): string {
  return `${prefix}${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}

/** A stream id no other test uses. */
export function randomStreamId(prefix = 'stream'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Builds a new event; `data` defaults to an empty object. */
export function newEvent(
  type: string,
  data: NewEvent['data'] = {},
  extra: Omit<NewEvent, 'type' | 'data'> = {},
): NewEvent {
  return { type, data, ...extra };
}

/** `count` events of `type` whose data carries their index. */
export function manyEvents(
  type: string,
  count: number,
  extra: Omit<NewEvent, 'type' | 'data'> = {},
): NewEvent[] {
  return Array.from({ length: count }, (_, i) => newEvent(type, { i }, extra));
}

/** Awaits `action` and returns the error it failed with; fails the test when it succeeds. */
export async function failureOf(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Asserts that `action` fails (synchronously or asynchronously) with `InvalidInputError`. */
export async function expectInvalidInput(action: () => unknown): Promise<InvalidInputError> {
  const error = await failureOf(action);
  if (!(error instanceof InvalidInputError) || error.code !== 'INVALID_INPUT') {
    throw new Error(`expected InvalidInputError, got ${describeError(error)}`, { cause: error });
  }
  return error;
}

/** A one-line description of a thrown value, for assertion messages. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Polls `predicate` until it holds; throws with `what` after `timeoutMs`. This bounds a wait for
 * asynchronous delivery; it never asserts how fast something happened.
 */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const lastAppended = new WeakMap<EventStore, Position>();
const unwrapped = new WeakMap<EventStore, EventStore>();

/**
 * Wraps a store so that the suite knows the newest position it appended. The global log may show
 * a committed event a moment later than `append` resolves (a backend may hold it back until
 * older in-flight commits are visible, so that no reader ever sees a late commit); {@link settle}
 * waits for that instead of treating it as a failure.
 */
export function trackAppends(store: EventStore): EventStore {
  const proxy: EventStore = new Proxy(store, {
    get(target, key) {
      if (key === 'append') {
        return async (...args: Parameters<EventStore['append']>) => {
          const result = await target.append(...args);
          const known = lastAppended.get(proxy);
          if (known === undefined || comparePositions(known, result.position) < 0)
            lastAppended.set(proxy, result.position);
          return result;
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  unwrapped.set(proxy, store);
  return proxy;
}

/** The store a {@link trackAppends} wrapper stands for (what backend hooks such as `corrupt` expect). */
export function unwrap(store: EventStore): EventStore {
  return unwrapped.get(store) ?? store;
}

/** Waits (bounded) until the global log shows every event this tracked store appended. */
export async function settle(store: EventStore): Promise<void> {
  const position = lastAppended.get(store);
  if (position === undefined) return;
  await waitUntil(
    async () => comparePositions(await store.headPosition(), position) >= 0,
    `position ${position} to become visible in readAll`,
  );
}

/** Everything readers can see in the store's namespace (after {@link settle}), read page by page. */
export async function readEverything(store: EventStore): Promise<RecordedEvent[]> {
  await settle(store);
  const all: RecordedEvent[] = [];
  let after = '0';
  for (;;) {
    const page = await store.readAll({ after, limit: 1_000 });
    all.push(...page);
    if (page.length < 1_000) return all;
    after = page[page.length - 1]!.position;
  }
}

/** Registers tests; see {@link ConformanceContext.test}. */
export function registerCase(
  config: ConformanceConfig,
  caseName: string,
  name: string,
  body: () => Promise<void>,
  options: CaseOptions = {},
): void {
  const reason = config.skip?.[name] ?? config.skip?.[caseName] ?? options.unsupported;
  if (reason !== undefined) {
    it.skip(`${name} (skipped: ${reason})`, body);
    return;
  }
  it(name, body, options.timeout ?? CASE_TIMEOUT_MS);
}
