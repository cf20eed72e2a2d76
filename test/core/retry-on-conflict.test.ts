import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppendConditionError, VersionConflictError } from '../../src/core/errors.js';
import {
  CircuitOpenError,
  createConflictCircuitBreaker,
  retryOnConflict,
} from '../../src/core/retry-on-conflict.js';

const conflict = (current = 1) => new VersionConflictError('s', 0, current);
const fast = { backoff: { initialDelayMs: 1, maxDelayMs: 2 } };

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('retryOnConflict', () => {
  it('returns the first successful result without retrying', async () => {
    const fn = vi.fn(async (attempt: number) => `ok ${attempt}`);
    await expect(retryOnConflict(fn, fast)).resolves.toBe('ok 1');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('retries version and condition conflicts until the call succeeds, numbering attempts', async () => {
    const attempts: number[] = [];
    const result = await retryOnConflict(async (attempt) => {
      attempts.push(attempt);
      if (attempt === 1) throw conflict();
      if (attempt === 2) throw new AppendConditionError('s', { failIfEventsMatch: { types: ['A'] } });
      return 'done';
    }, fast);
    expect(result).toBe('done');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('does not retry other errors', async () => {
    const failure = new Error('not a conflict');
    const fn = vi.fn(async () => {
      throw failure;
    });
    await expect(retryOnConflict(fn, { ...fast, maxAttempts: 5 })).rejects.toBe(failure);
    expect(fn).toHaveBeenCalledTimes(1);
    // An error that merely looks like a conflict by name is not one.
    const lookalike = Object.assign(new Error('x'), { name: 'VersionConflictError' });
    const fn2 = vi.fn(async () => {
      throw lookalike;
    });
    await expect(retryOnConflict(fn2, fast)).rejects.toBe(lookalike);
    expect(fn2).toHaveBeenCalledTimes(1);
  });

  it('gives up after maxAttempts and throws the last conflict', async () => {
    const errors: VersionConflictError[] = [];
    const fn = vi.fn(async () => {
      const error = conflict(errors.length + 1);
      errors.push(error);
      throw error;
    });
    const error = await retryOnConflict(fn, { ...fast, maxAttempts: 4 }).catch((e: unknown) => e);
    expect(error).toBe(errors[3]);
    expect(fn).toHaveBeenCalledTimes(4);
    expect(errors).toHaveLength(4);
    const single = vi.fn(async () => {
      throw conflict();
    });
    await expect(retryOnConflict(single, { ...fast, maxAttempts: 1 })).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    expect(single).toHaveBeenCalledTimes(1);
  });

  it('calls onRetry before each retry with the conflict that caused it', async () => {
    const seen: Array<[unknown, number]> = [];
    const thrown: unknown[] = [];
    await expect(
      retryOnConflict(
        async () => {
          const error = conflict();
          thrown.push(error);
          throw error;
        },
        { ...fast, maxAttempts: 3, onRetry: (error, attempt) => seen.push([error, attempt]) },
      ),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect(seen).toEqual([
      [thrown[0], 1],
      [thrown[1], 2],
    ]);
  });

  it('waits for the backoff delay between attempts', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    let calls = 0;
    const running = retryOnConflict(
      async () => {
        calls++;
        if (calls === 1) throw conflict();
        return 'second';
      },
      { maxAttempts: 2, backoff: { initialDelayMs: 10_000, maxDelayMs: 20_000 } },
    );
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(1); // still backing off: no immediate retry
    await vi.advanceTimersByTimeAsync(20_000);
    expect(calls).toBe(2);
    await expect(running).resolves.toBe('second');
  });

  it('rejects an invalid maxAttempts', async () => {
    for (const maxAttempts of [0, -1, 1.5, Number.NaN]) {
      await expect(retryOnConflict(async () => 1, { maxAttempts })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
    }
  });
});

describe('conflict circuit breaker', () => {
  it('opens after consecutive conflicts and then fails fast with CircuitOpenError', async () => {
    const breaker = createConflictCircuitBreaker({ threshold: 2, halfOpenAfterMs: 60_000 });
    const conflicting = vi.fn(async () => {
      throw conflict();
    });
    await expect(
      retryOnConflict(conflicting, { maxAttempts: 1, circuitBreaker: breaker }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    await expect(
      retryOnConflict(conflicting, { maxAttempts: 1, circuitBreaker: breaker }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    const healthy = vi.fn(async () => 'ok');
    const error = await retryOnConflict(healthy, { maxAttempts: 3, circuitBreaker: breaker }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).code).toBe('CIRCUIT_OPEN');
    expect(healthy).not.toHaveBeenCalled();
    expect(conflicting).toHaveBeenCalledTimes(2);
  });

  it('counts retried conflicts and is not opened by other errors', async () => {
    const breaker = createConflictCircuitBreaker({ threshold: 3, halfOpenAfterMs: 60_000 });
    const failure = new Error('boom');
    for (let i = 0; i < 5; i++) {
      await expect(
        retryOnConflict(
          async () => {
            throw failure;
          },
          { circuitBreaker: breaker },
        ),
      ).rejects.toBe(failure);
    }
    await expect(retryOnConflict(async () => 'ok', { circuitBreaker: breaker })).resolves.toBe('ok');
    // Three conflicting attempts inside one call open it.
    await expect(
      retryOnConflict(
        async () => {
          throw conflict();
        },
        { ...fast, maxAttempts: 3, circuitBreaker: breaker },
      ),
    ).rejects.toBeInstanceOf(VersionConflictError);
    await expect(retryOnConflict(async () => 'ok', { circuitBreaker: breaker })).rejects.toBeInstanceOf(
      CircuitOpenError,
    );
  });

  it('a success resets the count of consecutive conflicts', async () => {
    const breaker = createConflictCircuitBreaker({ threshold: 2, halfOpenAfterMs: 60_000 });
    const once = async () => {
      throw conflict();
    };
    await expect(retryOnConflict(once, { maxAttempts: 1, circuitBreaker: breaker })).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    await expect(retryOnConflict(async () => 'ok', { circuitBreaker: breaker })).resolves.toBe('ok');
    await expect(retryOnConflict(once, { maxAttempts: 1, circuitBreaker: breaker })).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    await expect(retryOnConflict(async () => 'still closed', { circuitBreaker: breaker })).resolves.toBe(
      'still closed',
    );
  });
});
