/**
 * How `wait` shows progress: a live line per job on a terminal, plain lines when piped, or one
 * JSON snapshot per line with `--json`.
 */
import { readEta } from '@jobwatch/rx';
import { parseOperationUri, type Snapshot, type SnapshotEta } from '@jobwatch/schema';
import cliTruncate from 'cli-truncate';
import { formatDuration } from '../duration.js';

/** What a renderer writes to. */
export interface Output {
  write(text: string): unknown;
  /** Columns of the terminal, when it is one (read at every redraw: terminals resize). */
  readonly columns?: number | undefined;
}

/** One job's row as the renderers see it. */
export interface JobRow {
  readonly jobid: string;
  snapshot?: Snapshot;
  /** Set when the watch ended with an error. */
  error?: { readonly code: string; readonly message: string };
}

/** Describes a job's operation for people: `edit FireWeatherWatch.MapServer`, `backup create (store1)`. */
export function describeOperation(snapshot: Snapshot | undefined): string {
  const info = parseOperationUri(snapshot?.job?.operationURI);
  switch (info.target) {
    case 'service':
      return `${info.operation || 'service'} ${info.folder ? `${info.folder}/` : ''}${info.serviceName}.${info.serviceType}`;
    case 'services':
      return `services ${info.operation}`;
    case 'backup':
      return `backup ${info.operation}${info.store ? ` (${info.store})` : ''}`;
    default:
      return info.path;
  }
}

/** How long the job has run: start to end when it ended, start to now while it runs. */
export function elapsedMs(snapshot: Snapshot | undefined, now: number): number {
  const job = snapshot?.job;
  if (!job?.starttime) return snapshot ? now - snapshot.firstSeen : 0;
  const end = job.endtime && job.endtime > 0 ? job.endtime : now;
  const ms = end - job.starttime;
  return ms >= 0 ? ms : now - (snapshot?.firstSeen ?? now);
}

/** One line of text for a job, without a newline. */
export function describeRow(row: JobRow, now: number): string {
  if (row.error) return `${row.jobid}  ERROR  ${row.error.message} (${row.error.code})`;
  const s = row.snapshot;
  const status = s?.status ?? 'WAITING';
  const parts = [row.jobid, status.padEnd(10), formatDuration(elapsedMs(s, now)).padStart(7)];
  const op = describeOperation(s);
  if (op) parts.push(op);
  const progress = s && !s.terminal ? describeProgress(s) : '';
  if (progress) parts.push(progress);
  if (s?.stale) parts.push(`(stale: ${s.trouble?.code ?? 'retrying'})`);
  if (s?.eta && !s.terminal) parts.push(describeEta(s.eta, now));
  return parts.join('  ');
}

/**
 * How far a job is, where its source tells: `42%`, the step (`step 3/7`) and what it is doing
 * (`Copying features`), as `42% step 3/7 Copying features`; empty where the source says
 * nothing (admin jobs on Kubernetes).
 */
export function describeProgress(snapshot: Snapshot): string {
  const parts: string[] = [];
  if (typeof snapshot.progress === 'number') parts.push(`${Math.floor(snapshot.progress * 100)}%`);
  const step = snapshot.step;
  if (step?.index !== undefined && step.total !== undefined) {
    parts.push(`step ${step.index}/${step.total}`);
  }
  if (step?.text) parts.push(step.text);
  return parts.join(' ');
}

/** One unit for a rough duration: seconds under 90 s, minutes under 90 min, else hours. */
type Unit = 's' | 'min' | 'h';
const unitOf = (ms: number): Unit => (ms < 90_000 ? 's' : ms < 5_400_000 ? 'min' : 'h');
const inUnit = (ms: number, unit: Unit): string => {
  if (unit === 's') {
    const s = ms / 1000;
    return String(s < 10 ? Math.round(s) : Math.round(s / 5) * 5);
  }
  if (unit === 'min') return String(Math.round(ms / 60_000));
  const h = ms / 3_600_000;
  return String(h < 10 ? Math.round(h * 10) / 10 : Math.round(h));
};

/** A rough duration for people: `40 s`, `12 min`, `2.5 h`. */
export function roughDuration(ms: number): string {
  const unit = unitOf(ms);
  return `${inUnit(ms, unit)} ${unit}`;
}

/** A rough range for people, one unit when both ends share it: `35–60 s`, `50 s–2 min`. */
export function roughRange(low: number, high: number): string {
  const a = unitOf(low);
  const b = unitOf(high);
  const lo = inUnit(low, a);
  const hi = inUnit(high, b);
  if (a === b) return lo === hi ? `${lo} ${a}` : `${lo}–${hi} ${a}`;
  return `${lo} ${a}–${hi} ${b}`;
}

/**
 * What the `eta` says, for the live line: `about 40 s left (usually 35–60 s, from 23
 * earlier)` — the time left and its 80 % interval; `longer than usual (from 23 earlier)` once
 * the job has run past what usually suffices; never a negative time.
 */
export function describeEta(eta: SnapshotEta, now: number): string {
  const r = readEta(eta, now);
  const from = `from ${r.basis} earlier`;
  if (r.overdue) return `longer than usual (${from})`;
  if (r.left < 1000) return `ending about now (${from})`;
  return `about ${roughDuration(r.left)} left (usually ${roughRange(r.low, r.high)}, ${from})`;
}

/** Receives changes and draws them. */
export interface Renderer {
  /** A job changed (or its watch ended with an error). */
  update(row: JobRow): void;
  /** Redraws time-dependent parts (the live renderer's elapsed times). */
  tick(): void;
  /** Draws the final state. */
  done(): void;
}

/** `--json`: one Snapshot JSON object per line per change. */
export function jsonRenderer(out: Output): Renderer {
  return {
    update(row) {
      if (row.snapshot && !row.error) out.write(`${JSON.stringify(row.snapshot)}\n`);
    },
    tick() {},
    done() {},
  };
}

/** Piped output: one plain line per change. */
export function plainRenderer(out: Output, now: () => number = Date.now): Renderer {
  return {
    update(row) {
      out.write(`${describeRow(row, now())}\n`);
    },
    tick() {},
    done() {},
  };
}

/**
 * Cuts a line to `columns` terminal cells (wide characters count two), ending it with `…`
 * when cut. A line that wrapped would take two rows and break the redraw in place.
 */
export function fitLine(line: string, columns: number | undefined): string {
  if (!columns || columns < 1) return line;
  return cliTruncate(line, columns, { position: 'end' });
}

/** A terminal: one live line per job, redrawn in place, each cut to the terminal's width. */
export function liveRenderer(
  out: Output,
  jobids: readonly string[],
  now: () => number = Date.now,
): Renderer {
  const rows = new Map<string, JobRow>(jobids.map((jobid) => [jobid, { jobid }]));
  let drawn = false;
  const draw = () => {
    let text = drawn ? `\x1b[${rows.size}A` : '';
    const columns = out.columns;
    for (const row of rows.values())
      text += `\r\x1b[2K${fitLine(describeRow(row, now()), columns)}\n`;
    drawn = true;
    out.write(text);
  };
  return {
    update(row) {
      rows.set(row.jobid, row);
      draw();
    },
    tick: draw,
    done: draw,
  };
}
