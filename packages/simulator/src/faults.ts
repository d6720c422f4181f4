import { SimulatorError } from './errors.js';
import type { Random } from './random.js';

/**
 * The faults the simulator can inject on ArcGIS routes (never on `/__sim/`):
 * - `http502`, `http503`, `http504`: that status with an HTML page, as a gateway answers;
 * - `http429`: status 429 with `Retry-After` (seconds);
 * - `reset`: the connection is reset before any answer;
 * - `delay`: waits `delayMs`, then answers normally;
 * - `malformed`: HTTP 200 with a body that is not JSON;
 * - `truncated`: HTTP 200 with the first half of a valid JSON body;
 * - `empty`: HTTP 200 with an empty body.
 */
export const FaultKind = {
  http502: 'http502',
  http503: 'http503',
  http504: 'http504',
  reset: 'reset',
  delay: 'delay',
  malformed: 'malformed',
  truncated: 'truncated',
  empty: 'empty',
  http429: 'http429',
} as const;

/** One of {@link FaultKind}. */
export type FaultKindValue = (typeof FaultKind)[keyof typeof FaultKind];

/** Every fault kind. */
export const FAULT_KINDS: readonly FaultKindValue[] = Object.freeze(Object.values(FaultKind));

/**
 * Which requests get which faults.
 *
 * @example
 * ```ts
 * sim.setFaults({ rate: 0.2, kinds: ['http502', 'reset'], paths: ['job'] });
 * ```
 */
export interface FaultSpec {
  /** Share of matching requests that get a fault, 0–1. */
  readonly rate: number;
  /** The kinds to choose from, evenly. */
  readonly kinds: readonly FaultKindValue[];
  /**
   * Which routes: route names (`generateToken`, `site`, `jobsList`, `job`, `services`,
   * `service`, `operation`, `backup`, and those of the sister sources such as `serverJob`,
   * `gpJob`, `gpSubmit`, `itemStatus`; see `SIM_ROUTES`), `jobs` for every route that reads
   * jobs (of any source), or a path prefix starting with `/`. @default every ArcGIS route
   */
  readonly paths?: readonly string[];
  /** Milliseconds a `delay` fault waits. @default 2000 */
  readonly delayMs?: number;
  /** Seconds sent in `Retry-After` with `http429`. @default 1 */
  readonly retryAfterSeconds?: number;
}

/** A fault chosen for one request. */
export interface FaultDecision {
  readonly kind: FaultKindValue;
  readonly delayMs: number;
  readonly retryAfterSeconds: number;
}

const ALIASES: Record<string, readonly string[]> = {
  jobs: ['jobsList', 'job', 'serverJobsList', 'serverJob', 'gpJob', 'itemStatus'],
};

/**
 * Checks a fault spec from untrusted input.
 * @throws {@link SimulatorError} `INVALID_SPEC` naming the first problem.
 */
export function parseFaultSpec(input: unknown): FaultSpec {
  const bad = (why: string): never => {
    throw new SimulatorError('INVALID_SPEC', `faults: ${why}`);
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    bad('expected an object');
  const spec = input as Record<string, unknown>;
  const { rate, kinds, paths, delayMs, retryAfterSeconds } = spec;
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1))
    bad('rate must be a number from 0 to 1');
  if (!Array.isArray(kinds) || kinds.length === 0)
    bad(`kinds must be a non-empty array of ${FAULT_KINDS.join(', ')}`);
  for (const k of kinds as unknown[]) {
    if (!FAULT_KINDS.includes(k as FaultKindValue))
      bad(`unknown kind ${JSON.stringify(k)}; known: ${FAULT_KINDS.join(', ')}`);
  }
  if (
    paths !== undefined &&
    (!Array.isArray(paths) ||
      paths.some((p) => typeof p !== 'string' || p.length === 0 || p.length > 1000))
  ) {
    bad('paths must be an array of route names or path prefixes');
  }
  if (
    delayMs !== undefined &&
    (typeof delayMs !== 'number' || !(delayMs >= 0 && delayMs <= 600_000))
  )
    bad('delayMs must be 0–600000');
  if (
    retryAfterSeconds !== undefined &&
    (typeof retryAfterSeconds !== 'number' ||
      !Number.isInteger(retryAfterSeconds) ||
      retryAfterSeconds < 0 ||
      retryAfterSeconds > 86_400)
  ) {
    bad('retryAfterSeconds must be an integer 0–86400');
  }
  return {
    rate: rate as number,
    kinds: [...(kinds as FaultKindValue[])],
    ...(paths ? { paths: [...(paths as string[])] } : {}),
    ...(delayMs !== undefined ? { delayMs: delayMs as number } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds: retryAfterSeconds as number } : {}),
  };
}

/** Decides, with a seeded stream, which requests get a fault. */
export class FaultInjector {
  #spec: FaultSpec | undefined;

  constructor(readonly random: Random) {}

  /** The current spec, if any. */
  get spec(): FaultSpec | undefined {
    return this.#spec;
  }

  /** Sets (after checking) or clears the spec. */
  set(spec: unknown): void {
    this.#spec = spec === undefined ? undefined : parseFaultSpec(spec);
  }

  /** The fault for a request on `route` at `path`, or `undefined`. */
  decide(route: string, path: string): FaultDecision | undefined {
    const spec = this.#spec;
    if (!spec || spec.rate <= 0) return undefined;
    if (
      spec.paths &&
      !spec.paths.some((p) =>
        p.startsWith('/') ? path.startsWith(p) : p === route || ALIASES[p]?.includes(route),
      )
    ) {
      return undefined;
    }
    if (this.random() >= spec.rate) return undefined;
    const kind = spec.kinds[Math.floor(this.random() * spec.kinds.length)] ?? spec.kinds[0]!;
    return { kind, delayMs: spec.delayMs ?? 2000, retryAfterSeconds: spec.retryAfterSeconds ?? 1 };
  }
}
