/**
 * The one retry loop of the client: exponential backoff with full jitter, `Retry-After`
 * honoured, a bounded number of attempts and a total deadline.
 *
 * What may be retried is decided by the caller through `mayRetry`; the client's rule is:
 * reads (GET, and `generateToken`, which only issues a token) are retried on transient
 * failures; a POST operation is retried only when its connection failed before the request
 * could leave, because a POST that reached the server may have started a job.
 */
import type { RetryOptions } from './api.js';
import { backoffDelay } from './backoff.js';
import {
  AbortedError,
  type JobwatchError,
  RateLimitedError,
  TransportError,
  toJobwatchError,
} from './errors.js';

/** A sleep that ends early, rejecting with {@link AbortedError}, when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** A retry policy with every default filled in. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelay: number;
  readonly maxDelay: number;
  readonly deadline: number;
  readonly random: () => number;
  readonly sleep: Sleep;
  readonly now: () => number;
}

/** The default retry policy values. */
export const DEFAULT_RETRY = {
  attempts: 4,
  baseDelay: 250,
  maxDelay: 10_000,
  deadline: 30_000,
} as const;

/** Sleeps `ms` with `setTimeout`, ending early on abort. */
export const defaultSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });

const positive = (value: number | undefined, fallback: number, name: string): number => {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`retry.${name} must be a finite number ≥ 0`);
  return value;
};

/** Fills in a {@link RetryPolicy}. `false` means one attempt only. */
export function resolveRetry(
  options: RetryOptions | false | undefined,
  now: () => number,
): RetryPolicy {
  const o = options === false ? { attempts: 1 } : (options ?? {});
  const attempts = Math.max(
    1,
    Math.floor(positive(o.attempts, DEFAULT_RETRY.attempts, 'attempts')),
  );
  return {
    attempts,
    baseDelay: positive(o.baseDelay, DEFAULT_RETRY.baseDelay, 'baseDelay'),
    maxDelay: positive(o.maxDelay, DEFAULT_RETRY.maxDelay, 'maxDelay'),
    deadline: positive(o.deadline, DEFAULT_RETRY.deadline, 'deadline'),
    random: o.random ?? Math.random,
    sleep: o.sleep ?? defaultSleep,
    now,
  };
}

/** A call's own retry options laid over the client's policy (`false`: one attempt). */
export function overridePolicy(
  policy: RetryPolicy,
  options: RetryOptions | false | undefined,
): RetryPolicy {
  if (options === undefined) return policy;
  if (options === false) return { ...policy, attempts: 1 };
  const merged = resolveRetry({ ...policy, ...options }, policy.now);
  return merged;
}

/**
 * The wait before attempt `attempt + 1`: {@link backoffDelay} with full jitter over
 * `baseDelay·2^(attempt-1)` capped at `maxDelay`, and never less than the server's
 * `Retry-After`.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, error: JobwatchError): number {
  return backoffDelay(attempt, {
    baseMs: policy.baseDelay,
    capMs: policy.maxDelay,
    random: policy.random,
    retryAfterMs:
      error instanceof RateLimitedError || error instanceof TransportError
        ? error.retryAfterMs
        : undefined,
  });
}

/**
 * Runs `attempt` until it succeeds, the error may not be retried, attempts run out, or the
 * next wait would end past the deadline; then throws the last error, as a {@link JobwatchError}.
 */
export async function withRetries<T>(
  run: (attempt: number) => Promise<T>,
  context: {
    readonly policy: RetryPolicy;
    readonly signal?: AbortSignal | undefined;
    readonly mayRetry: (error: JobwatchError) => boolean;
  },
): Promise<T> {
  const { policy, signal, mayRetry } = context;
  const start = policy.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(attempt);
    } catch (thrown) {
      const error = toJobwatchError(thrown);
      if (attempt >= policy.attempts || !error.retryable || !mayRetry(error)) throw error;
      const delay = retryDelay(policy, attempt, error);
      if (policy.now() - start + delay > policy.deadline) throw error;
      await policy.sleep(delay, signal);
    }
  }
}
