/** Waiting on conditions rather than on time. */

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many ms. */
  readonly timeoutMs: number;
  /** Check every this many ms. @default 100 */
  readonly intervalMs?: number;
  /** Said in the error when the time runs out; called then, so it can report progress. */
  readonly what: string | (() => string);
}

/**
 * Resolves once `check` returns (or resolves to) a truthy value, polling it; rejects after
 * `timeoutMs` naming `what`. Errors thrown by `check` count as "not yet".
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: WaitForOptions,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const what = typeof options.what === 'function' ? options.what() : options.what;
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`,
      );
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** Resolves after `ms`. For pacing a scenario, never as an assertion. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
