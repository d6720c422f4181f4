/**
 * What a person sees of a snapshot, computed without a DOM: status label and tone, times,
 * the operation, the result and the trouble. The elements only lay this out.
 */
import { type EtaReading, readEta } from '@jobwatch/rx';
import {
  type JobMessage,
  type OperationInfo,
  parseOperationUri,
  resultObject,
  type Snapshot,
} from '@jobwatch/schema';
import { fill, type Messages } from './messages.js';

/**
 * The visual family of a status. Colour follows it, and so do the icon and the text, so
 * colour is never the only signal.
 */
export const Tone = {
  PENDING: 'pending',
  RUNNING: 'running',
  SUCCESS: 'success',
  FAILURE: 'failure',
  CANCELLED: 'cancelled',
  WARNING: 'warning',
  UNKNOWN: 'unknown',
} as const;
/** One of {@link Tone}. */
export type ToneValue = (typeof Tone)[keyof typeof Tone];

/** One stage of a backup, ready to show. */
export interface StageView {
  readonly name: string;
  readonly state: string;
  readonly duration: string;
}

/**
 * The snapshot fields of the sister job sources (ArcGIS Server admin jobs, geoprocessing
 * jobs): progress, the current step and result links. Absent on admin jobs' snapshots, and
 * read with care (display input is not validated in full).
 */
export interface SourceFields {
  /** 0–1 where the source tells, else `null` or absent. */
  readonly progress?: number | null;
  readonly step?: { readonly text?: string; readonly index?: number; readonly total?: number };
  /** A geoprocessing job's result parameters, on success. */
  readonly results?: ReadonlyArray<{ readonly name: string; readonly url: string }>;
}

/** The current step of a job, ready to show. */
export interface StepView {
  readonly text: string | null;
  /** 1-based, with `total`, when the source counts steps. */
  readonly index: number | null;
  readonly total: number | null;
}

/** One result of a geoprocessing job: its name, and a link only when it is safe to open. */
export interface ResultLink {
  readonly name: string;
  /** An absolute `http:` or `https:` URL; `null` for anything else (never a `javascript:` link). */
  readonly href: string | null;
}

/** Everything {@link describeSnapshot} reads from a snapshot. */
export interface JobView {
  readonly jobid: string;
  /** The server's status verbatim, or `pending` before the first body. */
  readonly status: string;
  /** The status in words, in the element's language. */
  readonly label: string;
  readonly tone: ToneValue;
  readonly terminal: boolean;
  /** Milliseconds since the job started (while it runs), or its final duration. `null` when unknown. */
  readonly elapsedMs: number | null;
  readonly operation: OperationInfo | null;
  /** The operation's name in words (`Edit`), or the verbatim last word of its URI. */
  readonly operationLabel: string;
  readonly username: string | null;
  /** Epoch ms. */
  readonly startedAt: number | null;
  /** Epoch ms; `null` until the job ends. */
  readonly endedAt: number | null;
  /** The edited or started service's name and configured state, from `result.service`. */
  readonly resultService: { readonly name: string; readonly state: string } | null;
  readonly stages: readonly StageView[];
  /** The job's messages, normalised (`{text, severity?}`), whatever shape the server sent. */
  readonly messages: readonly JobMessage[];
  /** Why a job that failed or was cancelled ended, in one line; `null` when the server said nothing. */
  readonly reason: string | null;
  readonly stale: boolean;
  /** The stale marker's text, when stale. */
  readonly trouble: string | null;
  /**
   * When a running job will likely end, from earlier jobs of its kind (`etaText` puts it in
   * words). `null` without a basis, and once the job has ended.
   */
  readonly eta: EtaReading | null;
  /** 0–1 while a job that reports progress runs; `null` otherwise (no bar is shown). */
  readonly progress: number | null;
  /** The current step, where the source gives one. */
  readonly step: StepView | null;
  /** A succeeded geoprocessing job's results; empty otherwise. */
  readonly results: readonly ResultLink[];
}

/** The URL when it is an absolute `http:` or `https:` one (normalised), else `null`. */
export function safeHref(url: unknown): string | null {
  if (typeof url !== 'string') return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

const count = (n: unknown): number | null =>
  typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : null;

/** The progress, step and results of a snapshot, read with care. */
function sourceView(snapshot: Snapshot): Pick<JobView, 'progress' | 'step' | 'results'> {
  const extra = snapshot as Snapshot & SourceFields;
  const p = extra.progress;
  const progress =
    !snapshot.terminal && typeof p === 'number' && Number.isFinite(p)
      ? Math.min(1, Math.max(0, p))
      : null;
  const raw = typeof extra.step === 'object' && extra.step !== null ? extra.step : undefined;
  const text = typeof raw?.text === 'string' && raw.text.trim() !== '' ? raw.text.trim() : null;
  const index = count(raw?.index);
  const total = count(raw?.total);
  const counted = index !== null && total !== null && total > 0;
  const step =
    text !== null || counted
      ? { text, index: counted ? index : null, total: counted ? total : null }
      : null;
  const results =
    snapshot.outcome === 'succeeded' && Array.isArray(extra.results)
      ? extra.results
          .filter((r) => typeof r === 'object' && r !== null && typeof r.name === 'string')
          .map((r) => ({ name: r.name, href: safeHref(r.url) }))
      : [];
  return { progress, step, results };
}

const OPERATION_KEYS: Readonly<Record<string, keyof Messages>> = {
  edit: 'opEdit',
  start: 'opStart',
  stop: 'opStop',
  deleteServices: 'opDeleteServices',
  create: 'opCreate',
};

/**
 * The value as a snapshot to show, or `undefined` when it cannot be one (not an object, or
 * no job id). Display input is not validated in full — sources do that — but it never
 * breaks rendering: missing fields read as "not known yet".
 */
export function asSnapshot(value: unknown): Snapshot | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const s = value as Partial<Snapshot>;
  if (typeof s.jobid !== 'string') return undefined;
  const job = typeof s.job === 'object' && s.job !== null && !Array.isArray(s.job) ? s.job : null;
  const status = typeof s.status === 'string' ? s.status : null;
  return {
    ...(s as Snapshot),
    status,
    job,
    kind: status === null ? 'pending' : (s.kind ?? 'unknown'),
    outcome: s.outcome ?? 'none',
    terminal: s.terminal === true,
    stale: s.stale === true,
  };
}

/** The tone of a snapshot, from the status meaning `@jobwatch/schema` derived for it. */
export function toneOf(snapshot: Pick<Snapshot, 'status' | 'kind' | 'outcome'>): ToneValue {
  switch (snapshot.outcome) {
    case 'succeeded':
      return Tone.SUCCESS;
    case 'failed':
      return Tone.FAILURE;
    case 'cancelled':
      return Tone.CANCELLED;
    case 'none':
      break;
  }
  switch (snapshot.kind) {
    case 'pending':
      return Tone.PENDING;
    case 'unknown':
      return Tone.UNKNOWN;
    case 'terminal':
    case 'passing':
      break;
  }
  switch (snapshot.status) {
    case 'SUBMITTED':
      return Tone.PENDING;
    case 'UNAVAILABLE':
    case 'CANCELLING':
      return Tone.WARNING;
    default:
      return Tone.RUNNING;
  }
}

/** The status in words: a known status's label, or the unknown one verbatim. */
export function statusLabel(status: string | null, messages: Messages): string {
  if (status === null) return messages.statusPending;
  if (Object.hasOwn(messages, status) && /^[A-Z ]+$/.test(status)) {
    const label = messages[status as keyof Messages];
    if (typeof label === 'string') return label;
  }
  return fill(messages.statusUnknown, { status });
}

const positive = (n: number | undefined | null): number | null =>
  typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null;

/**
 * Reads a snapshot for display at time `now` (epoch ms).
 *
 * The elapsed time of a running job is the larger of "now minus its start" and "its last
 * update minus its start", so a server clock ahead of the page's never shows a negative or
 * frozen time.
 */
export function describeSnapshot(snapshot: Snapshot, now: number, messages: Messages): JobView {
  const job = snapshot.job;
  const startedAt = positive(job?.starttime);
  const endedAt = snapshot.terminal ? positive(job?.endtime) : null;
  let elapsedMs: number | null = null;
  if (startedAt !== null) {
    if (endedAt !== null) elapsedMs = Math.max(0, endedAt - startedAt);
    else if (!snapshot.terminal)
      elapsedMs = Math.max(0, now - startedAt, (positive(job?.updatedtime) ?? 0) - startedAt);
    else elapsedMs = Math.max(0, (positive(job?.updatedtime) ?? startedAt) - startedAt);
  }
  const operation = job ? parseOperationUri(job.operationURI) : null;
  const opKey = operation ? OPERATION_KEYS[operation.operation] : undefined;
  const operationLabel = opKey ? messages[opKey] : (operation?.operation ?? '');
  const result = job ? resultObject(job) : undefined;
  const service = result?.service;
  const serviceName = typeof service?.serviceName === 'string' ? service.serviceName : undefined;
  const state = typeof service?.configuredState === 'string' ? service.configuredState : undefined;
  // A snapshot's result is checked only as an object: read its stages with care.
  const stages = (Array.isArray(result?.stages) ? result.stages : [])
    .filter((s) => typeof s === 'object' && s !== null)
    .map((s) => ({
      name: typeof s.name === 'string' ? s.name : '',
      state: typeof s.state === 'string' ? s.state : '',
      duration:
        typeof s.duration === 'number'
          ? `${s.duration} ms`
          : typeof s.duration === 'string'
            ? s.duration
            : '',
    }));
  const failed = snapshot.outcome === 'failed' || snapshot.outcome === 'cancelled';
  // Display input is not validated in full: keep the messages that have text.
  const jobMessagesShown = Array.isArray(snapshot.messages)
    ? snapshot.messages.filter((m) => typeof m?.text === 'string')
    : [];
  const trouble = snapshot.stale
    ? fill(messages.staleDetail, {
        message: snapshot.trouble?.message ?? '',
        attempts: snapshot.trouble?.attempts ?? 1,
      })
    : null;
  return {
    ...sourceView(snapshot),
    eta:
      snapshot.eta && !snapshot.terminal && typeof snapshot.eta.high === 'number'
        ? readEta(snapshot.eta, now)
        : null,
    jobid: snapshot.jobid,
    status: snapshot.status ?? 'pending',
    label: statusLabel(snapshot.status, messages),
    tone: toneOf(snapshot),
    terminal: snapshot.terminal,
    elapsedMs,
    operation,
    operationLabel,
    username: job?.username || null,
    startedAt,
    endedAt,
    resultService: serviceName ? { name: serviceName, state: state ?? '' } : null,
    stages,
    messages: jobMessagesShown,
    reason: failed ? (typeof snapshot.reason === 'string' ? snapshot.reason : null) : null,
    stale: snapshot.stale,
    trouble,
  };
}

/**
 * An {@link EtaReading} in words, in the page's language: `About 40s left` and `usually
 * 35s–1m, from 23 earlier`; overdue, `Taking longer than usual` and `from 23 earlier`.
 * Times over 10 s are rounded to 5 s: they are estimates.
 */
export function etaText(
  eta: EtaReading,
  messages: Messages,
  lang: string,
): { readonly text: string; readonly detail: string } {
  const say = (ms: number) => formatDuration(ms < 1e4 ? ms : Math.round(ms / 5e3) * 5e3, lang);
  return {
    text: eta.overdue
      ? messages.etaOverdue
      : eta.left < 1000
        ? messages.etaDue
        : fill(messages.etaLeft, { left: say(eta.left) }),
    detail: fill(eta.overdue ? messages.etaFrom : messages.etaUsually, {
      low: say(eta.low),
      high: say(eta.high),
      basis: eta.basis,
    }),
  };
}

const durationFormats = new Map<string, Intl.NumberFormat[]>();

/**
 * A duration in the page's language, largest two units: `2h 5m`, `3m 7s`, `12s`
 * (`2 Std. 5 Min.` in German).
 */
export function formatDuration(ms: number, lang: string): string {
  let formats = durationFormats.get(lang);
  if (!formats) {
    formats = (['hour', 'minute', 'second'] as const).map(
      (unit) =>
        new Intl.NumberFormat(safeLang(lang), { style: 'unit', unit, unitDisplay: 'narrow' }),
    );
    durationFormats.set(lang, formats);
  }
  const total = Math.max(0, Math.floor(ms / 1000));
  const parts = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const first = parts.findIndex((n) => n > 0);
  if (first < 0) return formats[2]!.format(0);
  return parts
    .slice(first, first + 2)
    .map((n, i) => ({ n, f: formats[first + i]! }))
    .filter(({ n }, i) => i === 0 || n > 0)
    .map(({ n, f }) => f.format(n))
    .join(' ');
}

const percentFormats = new Map<string, Intl.NumberFormat>();

/** A share (0–1) as a whole percentage in the page's language: `40%`, `40 %` in German. */
export function formatPercent(share: number, lang: string): string {
  let format = percentFormats.get(lang);
  if (!format) {
    format = new Intl.NumberFormat(safeLang(lang), { style: 'percent', maximumFractionDigits: 0 });
    percentFormats.set(lang, format);
  }
  return format.format(share);
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** A moment in the page's language and time zone: `28 Nov 2026, 14:05:09`. */
export function formatTime(epochMs: number, lang: string): string {
  let format = dateFormats.get(lang);
  if (!format) {
    format = new Intl.DateTimeFormat(safeLang(lang), { dateStyle: 'medium', timeStyle: 'medium' });
    dateFormats.set(lang, format);
  }
  return format.format(epochMs);
}

/** A language tag `Intl` accepts: the given one when valid, else `en`. */
function safeLang(lang: string): string {
  try {
    return Intl.getCanonicalLocales(lang)[0] ?? 'en';
  } catch {
    return 'en';
  }
}
