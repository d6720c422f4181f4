/**
 * The one backoff of jobwatch: exponential from a first wait, capped, jittered, and never
 * sooner than the server's `Retry-After`. The client's retries, `@jobwatch/rx`'s waits after
 * failed polls, `fromDaemon`'s reconnects and the daemon's webhook retries all use it; each
 * keeps its own first wait, cap and share of jitter.
 */

/** Options of {@link backoffDelay}. */
export interface BackoffOptions {
  /** The ceiling of the first wait, in ms; it doubles with each attempt. */
  readonly baseMs: number;
  /** The largest ceiling, in ms. */
  readonly capMs: number;
  /**
   * The share of the ceiling that is random: `1` draws the wait from `[0, ceiling]` (full
   * jitter), `0.5` from `[ceiling/2, ceiling]`, `0` always waits the whole ceiling.
   * @default 1
   */
  readonly jitter?: number;
  /** A number in [0, 1); values outside are clamped. @default Math.random */
  readonly random?: () => number;
  /** What the server asked for (`Retry-After`), in ms: the wait is never shorter. */
  readonly retryAfterMs?: number | undefined;
}

/** Past this many doublings the cap has long been reached; it keeps `2 ** n` finite. */
const MAX_DOUBLINGS = 30;

/**
 * The wait before retry `attempt` (1 for the first retry), in ms:
 * `ceiling = min(capMs, baseMs · 2^(attempt−1))`, then
 * `ceiling · (1 − jitter + jitter · random())`, then at least `retryAfterMs`.
 *
 * @example
 * ```ts
 * backoffDelay(3, { baseMs: 250, capMs: 10_000 }); // full jitter over [0, 1000]
 * backoffDelay(1, { baseMs: 3000, capMs: 30_000, jitter: 0 }); // 3000
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const doublings = Math.min(MAX_DOUBLINGS, Math.max(0, attempt - 1));
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** doublings);
  const jitter = options.jitter ?? 1;
  const r = jitter === 0 ? 1 : Math.min(1, Math.max(0, (options.random ?? Math.random)()));
  const wait = ceiling * (1 - jitter + jitter * r);
  const after = options.retryAfterMs;
  return after !== undefined && after > wait ? after : wait;
}
