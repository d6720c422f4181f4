/**
 * The duration model: how long each kind of job took before, as a bounded, mergeable
 * sketch per kind, and the estimates that pacing and ETAs read from it. Pure and
 * browser-safe; persistence belongs to whoever holds the model (the daemon's store, the
 * command line's cache file).
 */
import { ConfigError } from '@jobwatch/client';
import { parseOperationUri, pointerToPath, type SchemaIssue } from '@jobwatch/schema';
import {
  DEFAULT_SKETCH_WINDOW,
  DurationSketch,
  type DurationSketchJSON,
  describeFound,
  SKETCH_RELATIVE_ACCURACY,
  validationError,
} from './sketch.js';

/**
 * What makes two jobs "the same kind", so that one's duration says something about the
 * other's. Each job source names its own kinds: admin jobs by their operation (see
 * {@link adminJobKind}); a geoprocessing task or an ArcGIS Server admin job can add theirs
 * under another `source` without meeting these.
 */
export interface JobKind {
  /** The job source: `admin` for ArcGIS Enterprise admin jobs. */
  readonly source: string;
  /** Where it ran: the deployment's name (a host, for sources without deployments). */
  readonly deployment: string;
  /**
   * What was done, normalised within the source: for admin jobs the `operationURI` path
   * after `/admin/`, lower case, ids as `*` (`services/roads.mapserver/edit`).
   */
  readonly operation: string;
}

/** The source name of ArcGIS Enterprise admin jobs in a {@link JobKind}. */
export const ADMIN_SOURCE = 'admin';

/**
 * The one-string form of a kind, `source:deployment:operation`, with `source` and
 * `deployment` percent-encoded so that the first two colons always separate the parts.
 * Use it as a map key or a database key; {@link parseJobKindKey} reads it back.
 */
export function jobKindKey(kind: JobKind): string {
  return `${encodeURIComponent(kind.source)}:${encodeURIComponent(kind.deployment)}:${kind.operation}`;
}

/** Reads a {@link jobKindKey} back; `undefined` when it is not one. */
export function parseJobKindKey(key: string): JobKind | undefined {
  const first = key.indexOf(':');
  const second = first < 0 ? -1 : key.indexOf(':', first + 1);
  if (first <= 0 || second < 0 || second === key.length - 1) return undefined;
  try {
    const source = decodeURIComponent(key.slice(0, first));
    const deployment = decodeURIComponent(key.slice(first + 1, second));
    return { source, deployment, operation: key.slice(second + 1) };
  } catch {
    return undefined;
  }
}

/** A path segment that names one job or one run rather than a kind of work. */
const ID_SEGMENT =
  /^(j?[0-9a-f]{32}|j?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4,})$/i;

/**
 * The kind of an ArcGIS Enterprise admin job: its deployment and the operation read from
 * its `operationURI` — the path after `/admin/`, lower case (ArcGIS names are
 * case-insensitive), with segments that look like ids (UUIDs, 32 hex digits, long numbers)
 * as `*`. So every `edit` of `Roads.MapServer` on `prod` is one kind, and a `stop` of it
 * another. `undefined` when the job names no operation: such a job is not learned from.
 *
 * @example
 * ```ts
 * adminJobKind('prod', { operationURI: '/arcgis/admin/services/Hydro/Roads.MapServer/edit' });
 * // { source: 'admin', deployment: 'prod', operation: 'services/hydro/roads.mapserver/edit' }
 * ```
 */
export function adminJobKind(
  deployment: string,
  job: { readonly operationURI?: unknown },
): JobKind | undefined {
  if (typeof job.operationURI !== 'string' || job.operationURI.trim() === '') return undefined;
  const { path } = parseOperationUri(job.operationURI);
  const operation = path
    .split('/')
    .filter(Boolean)
    .map((s) => (ID_SEGMENT.test(s) ? '*' : s.toLowerCase()))
    .join('/');
  if (operation === '') return undefined;
  return { source: ADMIN_SOURCE, deployment, operation };
}

// ---------------------------------------------------------------------------------------
// The normal distribution, for extending a kind's quantiles past the durations seen.

/** The standard normal CDF (Abramowitz–Stegun 7.1.26 on erf; absolute error below 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** The standard normal quantile (Acklam's rational approximation; relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const a = [
    -39.6968302866538, 220.946098424521, -275.928510446969, 138.357751867269, -30.6647980661472,
    2.50662827745924,
  ];
  const b = [
    -54.4760987982241, 161.585836858041, -155.698979859887, 66.8013118877197, -13.2806815528857,
  ];
  const c = [
    -0.00778489400243029, -0.322396458041136, -2.40075827716184, -2.54973253934373,
    4.37466414146497, 2.93816398269878,
  ];
  const d = [0.00778469570904146, 0.32246712907004, 2.445134137143, 3.75440866190742];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

// ---------------------------------------------------------------------------------------

/** The least spread (sd of ln duration) an estimate assumes: jobs never repeat to the ms. */
const MIN_LOG_SPREAD = 0.05;

/**
 * What a kind's history says about the next job of that kind: quantiles and shares of its
 * duration, with the tails beyond the durations seen extended as a log-normal with the
 * history's spread (so a short history does not pretend nothing can be shorter than its
 * shortest or longer than its longest). Made by {@link DurationModel.estimate}.
 */
export class DurationEstimate {
  /** Earlier jobs it rests on (every duration ever added, merges included). */
  readonly samples: number;
  /** The spread of ln(duration) it assumes in its tails. */
  readonly logSpread: number;
  /** Shares (`p`) of the table's points, rising. */
  private readonly ps: Float64Array;
  /** ln of the quantile at each point, non-decreasing. */
  private readonly logs: Float64Array;

  /** @internal Built from a sketch with at least one duration. */
  constructor(sketch: DurationSketch) {
    this.samples = sketch.count;
    const { cumulative, values } = sketch.nodes();
    const w = sketch.weight;
    const ps: number[] = [];
    const logs: number[] = [];
    let prev = 0;
    let mean = 0;
    for (let i = 0; i < values.length; i++) {
      mean += (cumulative[i]! - prev) * Math.log(values[i]!);
      prev = cumulative[i]!;
    }
    mean /= w;
    let variance = 0;
    prev = 0;
    for (let i = 0; i < values.length; i++) {
      variance += (cumulative[i]! - prev) * (Math.log(values[i]!) - mean) ** 2;
      prev = cumulative[i]!;
    }
    this.logSpread = Math.max(MIN_LOG_SPREAD, Math.sqrt(variance / Math.max(1, w - 1)));
    // The order statistics of integer rank j (1…⌊w⌋) sit at p = j / (w + 1) (plotting
    // positions, as DurationSketch.quantile): one point where each bin's ranks begin and
    // one where they end, so that in between the quantile is interpolated geometrically.
    const top = Math.max(1, Math.floor(w + 1e-9));
    prev = 0;
    for (let i = 0; i < values.length; i++) {
      const first = Math.max(1, Math.floor(prev + 1e-9) + 1);
      const last = Math.min(top, Math.floor(cumulative[i]! + 1e-9));
      prev = cumulative[i]!;
      if (first > last) continue;
      const ln = Math.log(values[i]!);
      ps.push(first / (w + 1));
      logs.push(ln);
      if (last > first) {
        ps.push(last / (w + 1));
        logs.push(ln);
      }
    }
    if (ps.length === 0) {
      // Less than one sample's weight in all: one point in the middle.
      ps.push(0.5);
      logs.push(Math.log(values[0] ?? 1));
    }
    this.ps = Float64Array.from(ps);
    this.logs = Float64Array.from(logs);
  }

  /** The `p`-quantile of the next duration, ms (0 for `p` ≤ 0, `Infinity` for `p` ≥ 1). */
  quantile(p: number): number {
    return Math.exp(this.logQuantile(p));
  }

  /** The share of jobs of this kind that take at most `ms` (0 to 1). */
  share(ms: number): number {
    if (!(ms > 0)) return 0;
    const x = Math.log(ms);
    const n = this.ps.length;
    const first = this.logs[0]!;
    const last = this.logs[n - 1]!;
    if (x < first) return normalCdf(normalQuantile(this.ps[0]!) + (x - first) / this.logSpread);
    if (x >= last) {
      if (x === last) return this.ps[n - 1]!;
      return normalCdf(normalQuantile(this.ps[n - 1]!) + (x - last) / this.logSpread);
    }
    // The last point at or below x, then interpolate towards the next one above.
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.logs[mid]! <= x) lo = mid;
      else hi = mid;
    }
    const a = this.logs[lo]!;
    const b = this.logs[hi]!;
    if (b === a) return this.ps[hi]!;
    return this.ps[lo]! + ((x - a) / (b - a)) * (this.ps[hi]! - this.ps[lo]!);
  }

  /**
   * How much longer a job of this kind that has run `age` ms will most likely take: the
   * `q`-quantile of what is left, given that it has not ended yet, in ms (≥ 0).
   */
  remaining(age: number, q: number): number {
    const done = this.share(Math.max(0, age));
    const p = done + Math.min(1, Math.max(0, q)) * (1 - done);
    return Math.max(0, this.quantile(p) - Math.max(0, age));
  }

  private logQuantile(p: number): number {
    if (p <= 0) return Number.NEGATIVE_INFINITY;
    if (p >= 1) return Number.POSITIVE_INFINITY;
    const n = this.ps.length;
    const p0 = this.ps[0]!;
    const pn = this.ps[n - 1]!;
    if (p < p0) return this.logs[0]! + (normalQuantile(p) - normalQuantile(p0)) * this.logSpread;
    if (p > pn) {
      return this.logs[n - 1]! + (normalQuantile(p) - normalQuantile(pn)) * this.logSpread;
    }
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.ps[mid]! <= p) lo = mid;
      else hi = mid;
    }
    const pa = this.ps[lo]!;
    const pb = this.ps[hi]!;
    if (pb === pa) return this.logs[lo]!;
    return this.logs[lo]! + ((p - pa) / (pb - pa)) * (this.logs[hi]! - this.logs[lo]!);
  }
}

// ---------------------------------------------------------------------------------------

/** Options of a {@link DurationModel}. */
export interface DurationModelOptions {
  /** Kinds kept; past this, the kind updated longest ago is forgotten. @default 1000 */
  readonly maxKinds?: number;
  /** Forgetting horizon of each kind's sketch, in samples (see {@link DurationSketchOptions}). @default 200 */
  readonly window?: number;
  /** Earlier jobs a kind needs before {@link DurationModel.estimate} answers (pacing, ETA). @default 10 */
  readonly minSamples?: number;
  /** Clock for `updatedAt`, epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** The model defaults. */
export const DEFAULT_MODEL: Readonly<Required<Omit<DurationModelOptions, 'now'>>> = Object.freeze({
  maxKinds: 1000,
  window: DEFAULT_SKETCH_WINDOW,
  minSamples: 10,
});

/** One kind in a {@link DurationModelJSON}. */
export interface DurationModelKindJSON extends JobKind {
  /** Epoch ms of the last duration added. */
  readonly updatedAt: number;
  /** The kind's durations. */
  readonly sketch: DurationSketchJSON;
  /**
   * For people reading the JSON (written by `toJSON({ summary: true })`, ignored when
   * read): the kind's samples and the 10th, 50th and 90th percentile of its durations, ms.
   */
  readonly summary?: {
    readonly samples: number;
    readonly p10: number;
    readonly median: number;
    readonly p90: number;
  };
}

/** The JSON form of a {@link DurationModel}: what the daemon stores and serves, and the command line caches. */
export interface DurationModelJSON {
  /** The format's version: 1. */
  readonly version: 1;
  /** The sketches' relative accuracy: 0.02. */
  readonly relativeAccuracy: number;
  /** Every kind, the one updated longest ago first. */
  readonly kinds: readonly DurationModelKindJSON[];
}

interface Entry {
  readonly kind: JobKind;
  readonly sketch: DurationSketch;
  updatedAt: number;
  estimate: DurationEstimate | undefined;
  estimatedAt: number;
}

/** What a {@link DurationModel} listener hears: the kind that changed. */
export interface DurationModelChange {
  readonly key: string;
  readonly kind: JobKind;
  readonly updatedAt: number;
  /** The kind's sketch as JSON now. */
  readonly sketch: DurationSketchJSON;
}

/**
 * How long each kind of job takes: a {@link DurationSketch} per {@link JobKind}, bounded
 * in kinds (least recently updated forgotten first) and in bins per kind. Hand one to
 * `createWatcher(client, { model })` and the watcher learns from every job it sees end
 * COMPLETED, paces by it and puts an `eta` on snapshots.
 *
 * @example
 * ```ts
 * const model = DurationModel.fromJSON(JSON.parse(await readFile(file, 'utf8')));
 * const watcher = createWatcher(client, { model });
 * // … later
 * await writeFile(file, JSON.stringify(model));
 * ```
 */
export class DurationModel {
  /** The resolved options. */
  readonly options: Readonly<Required<DurationModelOptions>>;
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(change: DurationModelChange) => void>();

  /** @throws ConfigError (code `CONFIG`) on an option that cannot work. */
  constructor(options: DurationModelOptions = {}) {
    const o = {
      ...DEFAULT_MODEL,
      now: Date.now,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    } as Required<DurationModelOptions>;
    if (!(Number.isInteger(o.maxKinds) && o.maxKinds >= 1)) {
      throw new ConfigError(`model.maxKinds must be an integer ≥ 1, got ${String(o.maxKinds)}`);
    }
    if (!(Number.isInteger(o.minSamples) && o.minSamples >= 1)) {
      throw new ConfigError(`model.minSamples must be an integer ≥ 1, got ${String(o.minSamples)}`);
    }
    if (!(o.window >= 1)) {
      throw new ConfigError(`model.window must be a number ≥ 1, got ${String(o.window)}`);
    }
    if (typeof o.now !== 'function') throw new ConfigError('model.now must be a function');
    this.options = Object.freeze(o);
  }

  /** Kinds held. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Adds one finished duration of a kind, in ms.
   * @throws ConfigError (code `CONFIG`) on a negative or non-finite duration; nothing changes.
   */
  observe(kind: JobKind, durationMs: number): void {
    const key = jobKindKey(kind);
    const entry = this.entries.get(key) ?? this.newEntry(kind);
    entry.sketch.add(durationMs);
    this.touch(key, entry, this.options.now());
  }

  /**
   * What the model knows of a kind, once it has at least `minSamples` earlier jobs;
   * `undefined` before (no basis). Cached until the kind changes.
   */
  estimate(kind: JobKind): DurationEstimate | undefined {
    const entry = this.entries.get(jobKindKey(kind));
    if (!entry || entry.sketch.count < this.options.minSamples) return undefined;
    if (!entry.estimate || entry.estimatedAt !== entry.sketch.revision) {
      entry.estimate = new DurationEstimate(entry.sketch);
      entry.estimatedAt = entry.sketch.revision;
    }
    return entry.estimate;
  }

  /** Durations ever added for a kind (0 when unknown). */
  samples(kind: JobKind): number {
    return this.entries.get(jobKindKey(kind))?.sketch.count ?? 0;
  }

  /** Every kind held, the one updated longest ago first. */
  kinds(): JobKind[] {
    return [...this.entries.values()].map((e) => e.kind);
  }

  /**
   * Adds everything `other` holds, kind by kind (sketches merged, the later `updatedAt`
   * kept). Merge what was learned elsewhere — another daemon, this run's jobs into a cache
   * file — never the same history twice: its durations would count twice.
   */
  merge(other: DurationModel): void {
    for (const [key, theirs] of other.entries) {
      const entry = this.entries.get(key) ?? this.newEntry(theirs.kind);
      entry.sketch.merge(theirs.sketch);
      this.touch(key, entry, Math.max(entry.updatedAt, theirs.updatedAt));
    }
  }

  /**
   * Listens to every change of a kind (to persist it); returns the function that stops
   * listening. A listener that throws does not stop the model or other listeners.
   */
  subscribe(listener: (change: DurationModelChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The model as JSON; with `summary`, each kind also carries figures for people. */
  toJSON(options: { readonly summary?: boolean } = {}): DurationModelJSON {
    return {
      version: 1,
      relativeAccuracy: SKETCH_RELATIVE_ACCURACY,
      kinds: [...this.entries.values()].map((e) => ({
        ...e.kind,
        updatedAt: e.updatedAt,
        sketch: e.sketch.toJSON(),
        ...(options.summary && e.sketch.count > 0
          ? {
              summary: {
                samples: e.sketch.count,
                p10: round(e.sketch.quantile(0.1)!),
                median: round(e.sketch.quantile(0.5)!),
                p90: round(e.sketch.quantile(0.9)!),
              },
            }
          : {}),
      })),
    };
  }

  /**
   * Reads what {@link DurationModel.toJSON} wrote (a stored model, the daemon's
   * `GET /api/models`). Kinds beyond `maxKinds` are dropped, oldest first.
   * @throws ValidationError (code `SCHEMA`) naming every field that does not fit, with its JSON pointer; nothing is half-read.
   */
  static fromJSON(json: unknown, options: DurationModelOptions = {}): DurationModel {
    const model = new DurationModel(options);
    const issues: SchemaIssue[] = [];
    const root = 'durationModel';
    const top = (pointer: string, expected: string, found: unknown): SchemaIssue => ({
      pointer,
      path: pointerToPath(root, pointer),
      expected,
      found: describeFound(found),
    });
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw validationError('a duration model', [top('', 'an object', json)]);
    }
    const j = json as Record<string, unknown>;
    if (j.version !== 1) issues.push(top('/version', '1', j.version));
    if (j.relativeAccuracy !== SKETCH_RELATIVE_ACCURACY) {
      issues.push(top('/relativeAccuracy', String(SKETCH_RELATIVE_ACCURACY), j.relativeAccuracy));
    }
    if (!Array.isArray(j.kinds)) {
      issues.push(top('/kinds', 'an array', j.kinds));
      throw validationError('a duration model', issues);
    }
    const read: Array<{ kind: JobKind; updatedAt: number; sketch: DurationSketch }> = [];
    j.kinds.forEach((raw: unknown, i: number) => {
      const at = `/kinds/${i}`;
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        issues.push(top(at, 'an object', raw));
        return;
      }
      const k = raw as Record<string, unknown>;
      for (const field of ['source', 'deployment', 'operation'] as const) {
        if (typeof k[field] !== 'string' || k[field] === '') {
          issues.push(top(`${at}/${field}`, 'a non-empty string', k[field]));
        }
      }
      if (!(typeof k.updatedAt === 'number' && Number.isFinite(k.updatedAt))) {
        issues.push(top(`${at}/updatedAt`, 'epoch ms', k.updatedAt));
      }
      try {
        const sketch = DurationSketch.fromJSON(
          k.sketch,
          { window: model.options.window },
          { pointer: `${at}/sketch`, root },
        );
        read.push({
          kind: {
            source: String(k.source),
            deployment: String(k.deployment),
            operation: String(k.operation),
          },
          updatedAt: Number(k.updatedAt),
          sketch,
        });
      } catch (error) {
        issues.push(...((error as { issues?: SchemaIssue[] }).issues ?? []));
      }
    });
    if (issues.length > 0) throw validationError('a duration model', issues);
    read.sort((a, b) => a.updatedAt - b.updatedAt);
    for (const r of read) {
      const key = jobKindKey(r.kind);
      const entry = model.entries.get(key) ?? model.newEntry(r.kind);
      entry.sketch.merge(r.sketch);
      model.entries.delete(key);
      entry.updatedAt = Math.max(entry.updatedAt, r.updatedAt);
      model.entries.set(key, entry);
    }
    model.evict();
    return model;
  }

  private newEntry(kind: JobKind): Entry {
    const k = { source: kind.source, deployment: kind.deployment, operation: kind.operation };
    return {
      kind: Object.freeze(k),
      sketch: new DurationSketch({ window: this.options.window }),
      updatedAt: 0,
      estimate: undefined,
      estimatedAt: -1,
    };
  }

  /** Marks a kind as just updated (last in line for eviction) and tells the listeners. */
  private touch(key: string, entry: Entry, at: number): void {
    entry.updatedAt = at;
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.evict();
    if (this.listeners.size === 0) return;
    const change: DurationModelChange = {
      key,
      kind: entry.kind,
      updatedAt: entry.updatedAt,
      sketch: entry.sketch.toJSON(),
    };
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch {
        // A listener's trouble is its own (see subscribe).
      }
    }
  }

  private evict(): void {
    while (this.entries.size > this.options.maxKinds) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

const round = (ms: number) => Math.round(ms);
