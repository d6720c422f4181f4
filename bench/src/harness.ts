/**
 * The benchmark harness: the shape every benchmark file exports, and small helpers to time
 * code, summarise samples and print one aligned table.
 *
 * @packageDocumentation
 */

/** One line of the results table: one measured figure of one benchmark. */
export interface BenchRow {
  /** The benchmark's name (usually the file name without extension). */
  bench: string;
  /** What was measured, e.g. `parse+validate / parse` or `p95 lag`. */
  metric: string;
  /** The measured value, in `unit`. */
  value: number;
  /** The unit of `value`, e.g. `ms`, `ns/op`, `×`, `req`. */
  unit: string;
  /** The goal as a person reads it, e.g. `≤ 0.5`. */
  target?: string;
  /** Whether `value` meets `target`; absent when the row has no target. */
  met?: boolean;
}

/** Options the runner passes to every benchmark. */
export interface BenchOptions {
  /** `true` with `--full`: run at full size (slower, steadier); otherwise a quick run. */
  full: boolean;
}

/**
 * What a file in `bench/src/benches/` exports as its default.
 *
 * @example
 * ```ts
 * const bench: Benchmark = {
 *   name: 'example',
 *   issue: 2,
 *   async run({ full }) {
 *     const t = measure(() => JSON.parse('{}'), { iterations: full ? 1e6 : 1e5 });
 *     return [{ bench: 'example', metric: 'parse', value: t.nsPerOp, unit: 'ns/op' }];
 *   },
 * };
 * export default bench;
 * ```
 */
export interface Benchmark {
  /** Short name, used by `--only <name>`; conventionally the file name. */
  name: string;
  /** The issue whose target this benchmark checks. */
  issue: number;
  /** Runs the benchmark and returns its rows. Throwing marks the benchmark as failed. */
  run(opts: BenchOptions): Promise<BenchRow[]>;
}

/** A monotonic clock in milliseconds with sub-millisecond resolution. */
export function now(): number {
  return performance.now();
}

/** Options for {@link measure}. */
export interface MeasureOptions {
  /** Calls per sample. @default 1000 */
  iterations?: number;
  /** Samples to take. @default 20 */
  samples?: number;
  /** Untimed calls before the first sample, so the JIT settles. @default iterations */
  warmup?: number;
}

/** What {@link measure} returns: per-call times in nanoseconds. */
export interface Measurement {
  /** Median of the samples' per-call times, in nanoseconds. */
  nsPerOp: number;
  /** Fastest sample's per-call time, in nanoseconds. */
  minNsPerOp: number;
  /** Every sample's per-call time, in nanoseconds, in the order taken. */
  samples: number[];
}

/**
 * Times a synchronous function: warms it up, then takes `samples` samples of `iterations`
 * calls each, and reports the median per-call time. The function's return value is kept
 * reachable so the engine cannot drop the call as dead code.
 *
 * @example
 * ```ts
 * const { nsPerOp } = measure(() => JSON.parse(text), { iterations: 2000, samples: 30 });
 * ```
 */
export function measure(fn: () => unknown, options: MeasureOptions = {}): Measurement {
  const iterations = positiveInt(options.iterations ?? 1000, 'iterations');
  const sampleCount = positiveInt(options.samples ?? 20, 'samples');
  const warmup = Math.max(0, Math.floor(options.warmup ?? iterations));
  let sink: unknown;
  for (let i = 0; i < warmup; i++) sink = fn();
  const samples: number[] = [];
  for (let s = 0; s < sampleCount; s++) {
    const start = now();
    for (let i = 0; i < iterations; i++) sink = fn();
    samples.push(((now() - start) * 1e6) / iterations);
  }
  blackhole(sink);
  return { nsPerOp: percentile(samples, 50), minNsPerOp: Math.min(...samples), samples };
}

/**
 * Times several synchronous functions in one run, interleaving their samples (A, B, A, B, …)
 * so that drift in machine load affects each alike. Use it for ratios between variants.
 *
 * @returns one {@link Measurement} per key of `fns`.
 */
export function compare<K extends string>(
  fns: Record<K, () => unknown>,
  options: MeasureOptions = {},
): Record<K, Measurement> {
  const iterations = positiveInt(options.iterations ?? 1000, 'iterations');
  const sampleCount = positiveInt(options.samples ?? 20, 'samples');
  const warmup = Math.max(0, Math.floor(options.warmup ?? iterations));
  const keys = Object.keys(fns) as K[];
  let sink: unknown;
  for (const key of keys) for (let i = 0; i < warmup; i++) sink = fns[key]();
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let s = 0; s < sampleCount; s++) {
    for (const key of keys) {
      const fn = fns[key];
      const start = now();
      for (let i = 0; i < iterations; i++) sink = fn();
      samples[key].push(((now() - start) * 1e6) / iterations);
    }
  }
  blackhole(sink);
  const out = {} as Record<K, Measurement>;
  for (const key of keys) {
    const list = samples[key];
    out[key] = { nsPerOp: percentile(list, 50), minNsPerOp: Math.min(...list), samples: list };
  }
  return out;
}

/** Times one asynchronous call, in milliseconds. */
export async function timeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = now();
  const value = await fn();
  return { ms: now() - start, value };
}

/**
 * The `p`-th percentile (0–100) of `values`, by linear interpolation between closest ranks.
 * Does not modify `values`. Returns `NaN` for an empty list.
 *
 * @example `percentile([1, 2, 3, 4], 50) === 2.5`
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be within 0..100, got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const low = sorted[lo] as number;
  const high = sorted[hi] as number;
  return low + (high - low) * (rank - lo);
}

/** A goal for {@link row}: the value must be at most `atMost` or at least `atLeast`. */
export type Target = { atMost: number } | { atLeast: number };

/**
 * Builds a {@link BenchRow}, filling in `target` and `met` from a numeric goal.
 *
 * @example
 * ```ts
 * row('schema', 'validate overhead', 0.31, '×', { atMost: 0.5 })
 * // → { bench: 'schema', metric: 'validate overhead', value: 0.31, unit: '×', target: '≤ 0.5', met: true }
 * ```
 */
export function row(
  bench: string,
  metric: string,
  value: number,
  unit: string,
  target?: Target,
): BenchRow {
  if (target === undefined) return { bench, metric, value, unit };
  if ('atMost' in target) {
    return {
      bench,
      metric,
      value,
      unit,
      target: `≤ ${target.atMost}`,
      met: value <= target.atMost,
    };
  }
  return {
    bench,
    metric,
    value,
    unit,
    target: `≥ ${target.atLeast}`,
    met: value >= target.atLeast,
  };
}

const COLUMNS = ['bench', 'metric', 'value', 'unit', 'target', 'met'] as const;

/** Formats a number for the table: three significant decimals, no exponent for usual sizes. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(1);
  if (abs >= 1 || abs === 0) return value.toFixed(2);
  return value.toPrecision(3);
}

/**
 * Renders rows as a plain-text table with aligned columns
 * (bench | metric | value | unit | target | met). Numbers are right-aligned.
 */
export function table(rows: readonly BenchRow[]): string {
  const cells = rows.map((r) => [
    r.bench,
    r.metric,
    formatValue(r.value),
    r.unit,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = COLUMNS.map((title, i) =>
    Math.max(title.length, ...cells.map((c) => (c[i] as string).length)),
  );
  const line = (c: readonly string[]) =>
    c
      .map((text, i) =>
        i === 2 ? text.padStart(widths[i] as number) : text.padEnd(widths[i] as number),
      )
      .join(' | ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');
  return [line(COLUMNS), rule, ...cells.map(line)].join('\n');
}

function positiveInt(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`measure: ${name} must be a positive integer, got ${n}`);
  return n;
}

/** Holds the last result of a timed call, so the engine cannot treat the call as dead. */
export let lastResult: unknown;
function blackhole(value: unknown): void {
  lastResult = value;
}
