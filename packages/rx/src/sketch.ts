import { ConfigError, ValidationError } from '@jobwatch/client';
import { pointerToPath, type SchemaIssue } from '@jobwatch/schema';

/**
 * A quantile sketch of job durations: DDSketch's logarithmic mapping (Masson, Rim and Lee,
 * "DDSketch: a fast and fully-mergeable quantile sketch with relative-error guarantees",
 * VLDB 2019) over a dense run of bins, with the few additions a duration model needs —
 * plotting-position quantiles, exact minimum and maximum, forgetting, JSON.
 *
 * Why not a library: `@datadog/sketches-js` (the same algorithm) is CommonJS only,
 * serialises only to protobuf through a package it does not declare (so bundlers that
 * follow its `require`s fail, and `toProto()` throws where that package is missing), and
 * has no forgetting; `tdigest` is untyped and unmaintained. The part used here is small:
 * a bin key is `⌈ln x ÷ ln γ⌉`, and every value in a bin lies within the relative accuracy
 * of the bin's representative.
 */

/** Relative accuracy of every quantile a sketch returns: 2 %. Fixed, so that every sketch merges with every other. */
export const SKETCH_RELATIVE_ACCURACY = 0.02;
/** The shortest duration a sketch tells apart, in ms; shorter ones count as this. */
export const SKETCH_MIN_DURATION = 1;
/** The longest duration a sketch tells apart (366 days), in ms; longer ones count as this. */
export const SKETCH_MAX_DURATION = 366 * 24 * 3_600_000;
/** The default forgetting horizon: total weight kept, in samples. */
export const DEFAULT_SKETCH_WINDOW = 200;

const GAMMA = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const LN_GAMMA = Math.log(GAMMA);
const MAX_KEY = Math.ceil(Math.log(SKETCH_MAX_DURATION) / LN_GAMMA);
/**
 * The most bins a sketch can hold, whatever it is fed: one per key between the keys of
 * {@link SKETCH_MIN_DURATION} and {@link SKETCH_MAX_DURATION} (620 at 2 %). A kind whose
 * durations spread over a factor of 100 uses about 120.
 */
export const SKETCH_MAX_BINS = MAX_KEY + 1;
/** Bins at either end lighter than this (after forgetting) are dropped. */
const NEGLIGIBLE = 1e-3;

/** The bin of a duration already clamped to the sketch's range. */
const keyOf = (ms: number): number => Math.max(0, Math.ceil(Math.log(ms) / LN_GAMMA));
/** The value that stands for every duration in bin `key`: within the relative accuracy of each. */
const binValue = (key: number): number => (2 * GAMMA ** key) / (GAMMA + 1);
/** The smallest value bin `key` holds (exclusive). */
const lowerEdgeOf = (key: number): number => GAMMA ** (key - 1);
/** The largest value bin `key` holds (inclusive). */
const upperEdgeOf = (key: number): number => GAMMA ** key;

/** The JSON form of a {@link DurationSketch}: what `toJSON()` writes and `fromJSON()` reads. */
export interface DurationSketchJSON {
  /** Durations ever added (merges add up), however much forgetting has faded them. */
  readonly count: number;
  /** Total weight of the bins: `count` until forgetting starts, then at most the window. */
  readonly weight: number;
  /** The shortest duration seen, ms. */
  readonly min: number;
  /** The longest duration seen, ms. */
  readonly max: number;
  /** Key of the first bin: bin `k` holds durations in `(γ^(k−1), γ^k]` ms, `γ = 1.02 / 0.98`. */
  readonly offset: number;
  /** Weight of each bin from `offset` on. */
  readonly bins: readonly number[];
}

/** Options of a {@link DurationSketch}. */
export interface DurationSketchOptions {
  /**
   * Forgetting: once the total weight passes this many samples, every bin is scaled down so
   * that it is this again, so older durations fade geometrically and a kind whose jobs got
   * slower is followed within a few windows. `Infinity` forgets nothing.
   * @default 200
   */
  readonly window?: number;
}

/**
 * A bounded, mergeable summary of durations with a relative-error guarantee: every
 * {@link DurationSketch.quantile} is within {@link SKETCH_RELATIVE_ACCURACY} (2 %) of the
 * same quantile of the durations added, it never holds more than {@link SKETCH_MAX_BINS}
 * bins, and `a.merge(b)` holds exactly what one sketch fed both streams would hold (until
 * forgetting starts). Pure and browser-safe.
 *
 * @example
 * ```ts
 * const s = new DurationSketch();
 * for (const ms of [41_000, 38_500, 52_000]) s.add(ms);
 * s.quantile(0.5); // ≈ 41 000, within 2 %
 * ```
 */
export class DurationSketch {
  /** The forgetting horizon (see {@link DurationSketchOptions.window}). */
  readonly window: number;
  private _count = 0;
  private _weight = 0;
  private _min = Number.POSITIVE_INFINITY;
  private _max = 0;
  private offset = 0;
  private bins: number[] = [];
  /** Bumped on every change, so that derived figures can be cached. */
  private _revision = 0;

  /** @throws ConfigError (code `CONFIG`) when `window` is not a number ≥ 1. */
  constructor(options: DurationSketchOptions = {}) {
    const window = options.window ?? DEFAULT_SKETCH_WINDOW;
    if (!(window >= 1)) {
      throw new ConfigError(`sketch window must be a number ≥ 1, got ${String(window)}`);
    }
    this.window = window;
  }

  /** Durations ever added, merges included. */
  get count(): number {
    return this._count;
  }

  /** Total weight: the count until forgetting starts, then at most {@link DurationSketch.window}. */
  get weight(): number {
    return this._weight;
  }

  /** The shortest duration added, ms (`undefined` while empty). */
  get min(): number | undefined {
    return this._count === 0 ? undefined : this._min;
  }

  /** The longest duration added, ms (`undefined` while empty). */
  get max(): number | undefined {
    return this._count === 0 ? undefined : this._max;
  }

  /** Bins held now: at most {@link SKETCH_MAX_BINS}. */
  get binCount(): number {
    return this.bins.length;
  }

  /** Changes with every `add` and `merge`. */
  get revision(): number {
    return this._revision;
  }

  /**
   * Adds one finished duration, in ms. Durations below 1 ms count as 1 ms, above 366 days as
   * 366 days.
   * @throws ConfigError (code `CONFIG`) on a negative or non-finite duration; the sketch is unchanged.
   */
  add(durationMs: number): void {
    if (!(durationMs >= 0) || !Number.isFinite(durationMs)) {
      throw new ConfigError(
        `a duration must be a finite number of ms ≥ 0, got ${String(durationMs)}`,
      );
    }
    const ms = Math.min(SKETCH_MAX_DURATION, Math.max(SKETCH_MIN_DURATION, durationMs));
    this.put(keyOf(ms), 1);
    this._count++;
    this._min = Math.min(this._min, ms);
    this._max = Math.max(this._max, ms);
    this.forget();
    this.resum();
    this._revision++;
  }

  /**
   * Adds everything `other` holds (its weights, count, minimum and maximum); `other` is
   * unchanged. Merging is commutative and associative until forgetting starts.
   */
  merge(other: DurationSketch): void {
    if (other._count === 0) return;
    for (let i = 0; i < other.bins.length; i++) {
      const w = other.bins[i]!;
      if (w > 0) this.put(other.offset + i, w);
    }
    this._count += other._count;
    this._min = Math.min(this._min, other._min);
    this._max = Math.max(this._max, other._max);
    this.forget();
    this.resum();
    this._revision++;
  }

  /**
   * The `p`-quantile of the durations added, ms, within 2 %: the plotting-position
   * (Hyndman–Fan type 6) quantile, so that `[quantile(0.1), quantile(0.9)]` holds the next
   * duration 80 % of the time however few durations there are, interpolated geometrically
   * between neighbouring order statistics and clamped to the shortest and longest seen.
   * `undefined` while empty.
   */
  quantile(p: number): number | undefined {
    if (this._weight <= 0) return undefined;
    const w = this._weight;
    const r = Math.min(w, Math.max(1, clamp01(p) * (w + 1)));
    const lo = Math.floor(r);
    const f = r - lo;
    const a = this.valueAtRank(lo);
    if (f === 0 || lo + 1 > w) return a;
    const b = this.valueAtRank(lo + 1);
    return Math.exp((1 - f) * Math.log(a) + f * Math.log(b));
  }

  /**
   * The order statistics of the sketch, for figures derived from it: for each bin in
   * ascending order, its cumulative weight at its end and its value (clamped to the minimum
   * and maximum seen).
   */
  nodes(): { readonly cumulative: Float64Array; readonly values: Float64Array } {
    const n = this.bins.filter((w) => w > 0).length;
    const cumulative = new Float64Array(n);
    const values = new Float64Array(n);
    let sum = 0;
    let j = 0;
    for (let i = 0; i < this.bins.length; i++) {
      const w = this.bins[i]!;
      if (!(w > 0)) continue;
      sum += w;
      cumulative[j] = sum;
      values[j] = this.clampValue(binValue(this.offset + i));
      j++;
    }
    return { cumulative, values };
  }

  /** The sketch as plain JSON (see {@link DurationSketchJSON}). */
  toJSON(): DurationSketchJSON {
    return {
      count: this._count,
      weight: this._weight,
      min: this._count === 0 ? 0 : this._min,
      max: this._max,
      offset: this.offset,
      bins: [...this.bins],
    };
  }

  /**
   * Reads what {@link DurationSketch.toJSON} wrote.
   * @param at - where `json` sits in a larger document (JSON pointer and the document's name), for error messages.
   * @throws ValidationError (code `SCHEMA`) naming each field that does not fit; nothing is half-read.
   */
  static fromJSON(
    json: unknown,
    options: DurationSketchOptions = {},
    at: { readonly pointer: string; readonly root: string } = { pointer: '', root: 'sketch' },
  ): DurationSketch {
    const issues = sketchIssues(json, at.pointer, at.root);
    if (issues.length > 0) throw validationError('a duration sketch', issues);
    const j = json as DurationSketchJSON;
    const sketch = new DurationSketch(options);
    sketch.offset = j.offset;
    sketch.bins = [...j.bins];
    sketch._count = j.count;
    sketch._weight = j.bins.reduce((a, b) => a + b, 0);
    sketch._min = j.count === 0 ? Number.POSITIVE_INFINITY : j.min;
    sketch._max = j.count === 0 ? 0 : j.max;
    sketch.trim();
    sketch.forget();
    sketch.resum();
    return sketch;
  }

  private put(key: number, w: number): void {
    if (this.bins.length === 0) {
      this.offset = key;
      this.bins.push(w);
    } else if (key < this.offset) {
      const grow = this.offset - key;
      this.bins = [...new Array<number>(grow).fill(0), ...this.bins];
      this.offset = key;
      this.bins[0] = w;
    } else if (key >= this.offset + this.bins.length) {
      const grow = key - this.offset - this.bins.length + 1;
      for (let i = 0; i < grow; i++) this.bins.push(0);
      this.bins[key - this.offset] = w;
    } else {
      this.bins[key - this.offset]! += w;
    }
    this._weight += w;
  }

  /** Scales every bin down once the weight passes the window, and drops faded end bins. */
  private forget(): void {
    // The tolerance keeps a sketch read back from JSON (whose weight rounding left a hair
    // above the window) from being scaled a second time.
    if (this._weight <= this.window * (1 + 1e-9)) return;
    const scale = this.window / this._weight;
    for (let i = 0; i < this.bins.length; i++) this.bins[i]! *= scale;
    this._weight = this.window;
    this.trim();
  }

  /**
   * Sets the weight to the sum of the bins, added in order, so that a sketch read back from
   * its JSON holds exactly the same figures as the one that wrote it.
   */
  private resum(): void {
    let sum = 0;
    for (const w of this.bins) sum += w;
    this._weight = sum;
  }

  private trim(): void {
    let start = 0;
    let end = this.bins.length;
    while (start < end && this.bins[start]! < NEGLIGIBLE) start++;
    while (end > start && this.bins[end - 1]! < NEGLIGIBLE) end--;
    if (start === 0 && end === this.bins.length) return;
    let dropped = 0;
    for (let i = 0; i < start; i++) dropped += this.bins[i]!;
    for (let i = end; i < this.bins.length; i++) dropped += this.bins[i]!;
    this.bins = this.bins.slice(start, end);
    this.offset += start;
    this._weight -= dropped;
    if (this.bins.length === 0) return;
    // What is left lies within the remaining bins: keep min and max inside them.
    this._min = Math.max(this._min, lowerEdgeOf(this.offset));
    this._max = Math.min(this._max, upperEdgeOf(this.offset + this.bins.length - 1));
  }

  private clampValue(v: number): number {
    return Math.min(this._max, Math.max(this._min, v));
  }

  /** The value of the order statistic of rank `j` (1-based; fractional weights allowed). */
  private valueAtRank(j: number): number {
    // The first and last order statistics are the minimum and maximum, known exactly.
    if (j <= 1) return this._min;
    if (j >= this._weight - 1e-9) return this._max;
    let sum = 0;
    for (let i = 0; i < this.bins.length; i++) {
      sum += this.bins[i]!;
      // A tolerance for the rounding of fractional weights.
      if (sum >= j - 1e-9) return this.clampValue(binValue(this.offset + i));
    }
    return this._max;
  }
}

const clamp01 = (p: number) => (p > 0 ? Math.min(1, p) : 0);

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** What is wrong with a sketch's JSON, if anything. */
function sketchIssues(json: unknown, at: string, root: string): SchemaIssue[] {
  const issue = (pointer: string, expected: string, found: unknown): SchemaIssue => ({
    pointer: `${at}${pointer}`,
    path: pointerToPath(root, `${at}${pointer}`),
    expected,
    found: describeFound(found),
  });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return [issue('', 'an object', json)];
  }
  const j = json as Record<string, unknown>;
  const out: SchemaIssue[] = [];
  const { count, weight, min, max, offset, bins } = j;
  if (!(Number.isInteger(count) && (count as number) >= 0)) {
    out.push(issue('/count', 'an integer ≥ 0', count));
  }
  if (!(isNum(weight) && weight >= 0)) out.push(issue('/weight', 'a number ≥ 0', weight));
  if (!(isNum(min) && min >= 0)) out.push(issue('/min', 'a number of ms ≥ 0', min));
  if (!(isNum(max) && max >= 0)) out.push(issue('/max', 'a number of ms ≥ 0', max));
  if (isNum(min) && isNum(max) && (count as number) > 0 && min > max) {
    out.push(issue('/min', `at most max (${max})`, min));
  }
  if (!(Number.isInteger(offset) && (offset as number) >= 0 && (offset as number) <= MAX_KEY)) {
    out.push(issue('/offset', `an integer from 0 to ${MAX_KEY}`, offset));
  }
  if (!Array.isArray(bins)) {
    out.push(issue('/bins', 'an array of weights', bins));
  } else {
    if (Number.isInteger(offset) && (offset as number) + bins.length - 1 > MAX_KEY) {
      out.push(issue('/bins', `at most ${MAX_KEY + 1 - (offset as number)} bins`, bins));
    }
    const bad = bins.findIndex((w) => !(isNum(w) && w >= 0));
    if (bad >= 0) out.push(issue(`/bins/${bad}`, 'a weight ≥ 0', bins[bad]));
    if (count === 0 && bins.some((w) => isNum(w) && w > 0)) {
      out.push(issue('/bins', 'no weight when count is 0', bins));
    }
  }
  return out;
}

/** @internal What a value is, in a few words, for error messages. */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return String(value);
}

/** @internal A `ValidationError` for JSON of the duration model or one of its sketches. */
export function validationError(what: string, issues: readonly SchemaIssue[]): ValidationError {
  const first = issues[0];
  const more =
    issues.length > 1
      ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})`
      : '';
  const message = first
    ? `Not ${what}: ${first.path}: expected ${first.expected}, got ${first.found}${more}`
    : `Not ${what}`;
  return new ValidationError(message, { issues });
}
