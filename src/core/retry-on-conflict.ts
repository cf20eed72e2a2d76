import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  decorrelatedJitterGenerator,
  ExponentialBackoff,
  handleWhen,
  retry,
} from 'cockatiel';
import { isConflict, OrdoError } from './errors.js';

export interface BackoffOptions {
  /** First delay before a retry, in milliseconds (default 5). */
  initialDelayMs?: number;
  /** Upper bound of one delay (default 1000). */
  maxDelayMs?: number;
}

export interface RetryOnConflictOptions {
  /** Total attempts including the first (default 10). */
  maxAttempts?: number;
  /** Exponential backoff with decorrelated jitter between attempts. */
  backoff?: BackoffOptions;
  /** Shared breaker: after too many consecutive conflicts, calls fail fast with `CircuitOpenError`. */
  circuitBreaker?: ConflictCircuitBreaker;
  /** Called before each retry with the conflict that caused it. */
  onRetry?: (error: unknown, attempt: number) => void;
  signal?: AbortSignal;
}

/** The conflict circuit breaker is open: the call was not attempted. */
export class CircuitOpenError extends OrdoError {
  declare readonly code: 'CIRCUIT_OPEN';
  constructor(options?: { cause?: unknown }) {
    super('CIRCUIT_OPEN', 'Too many consecutive conflicts; the circuit breaker is open', options);
  }
}

/** A breaker shared by the calls it protects (create one per hot resource, not per call). */
export interface ConflictCircuitBreaker {
  readonly policy: CircuitBreakerPolicy;
}

export interface ConflictCircuitBreakerConfig {
  /** Consecutive conflicting attempts that open the breaker (default 5). */
  threshold?: number;
  /** How long the breaker stays open before letting one call through (default 1000 ms). */
  halfOpenAfterMs?: number;
}

/** Creates a circuit breaker that opens after `threshold` consecutive calls failed with a conflict. */
export function createConflictCircuitBreaker(
  config: ConflictCircuitBreakerConfig = {},
): ConflictCircuitBreaker {
  return {
    policy: circuitBreaker(handleWhen(isConflict), {
      halfOpenAfter: config.halfOpenAfterMs ?? 1_000,
      breaker: new ConsecutiveBreaker(config.threshold ?? 5),
    }),
  };
}

/**
 * Runs `fn`, retrying it only when it fails with a version or condition conflict, with exponential
 * backoff and jitter. Any other error is thrown at once; after `maxAttempts` the last conflict is
 * thrown. `fn` must reload what it decides on: each attempt gets its 1-based number.
 */
export async function retryOnConflict<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOnConflictOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 10;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new OrdoError('INVALID_INPUT', `maxAttempts must be a positive integer, got ${maxAttempts}`);
  }
  const policy = retry(handleWhen(isConflict), {
    maxAttempts: maxAttempts - 1,
    backoff: new ExponentialBackoff({
      initialDelay: options.backoff?.initialDelayMs ?? 5,
      maxDelay: options.backoff?.maxDelayMs ?? 1_000,
      generator: decorrelatedJitterGenerator,
    }),
  });
  let attempt = 0;
  if (options.onRetry) {
    const onRetry = options.onRetry;
    policy.onRetry((reason) => onRetry('error' in reason ? reason.error : reason.value, attempt));
  }
  const run = () => {
    attempt += 1;
    return fn(attempt);
  };
  try {
    if (options.circuitBreaker) {
      const breaker = options.circuitBreaker.policy;
      return await policy.execute(() => breaker.execute(run), options.signal);
    }
    return await policy.execute(run, options.signal);
  } catch (error) {
    if (error instanceof BrokenCircuitError) throw new CircuitOpenError({ cause: error });
    throw error;
  }
}
