import {
  type JobId,
  JobStatus,
  type KnownJobStatus,
  parseOperationUri,
  type Service,
} from '@jobwatch/schema';
import { type Catalogue, type ServiceKey, serviceKeyString } from './catalogue.js';
import { type QuirkNameValue, spellStatus, typedService } from './quirks.js';
import { TimedStore } from './store.js';

/** How a simulated job ends. */
export type JobEnd =
  | typeof JobStatus.COMPLETED
  | typeof JobStatus.FAILED
  | typeof JobStatus.CANCELLED
  | typeof JobStatus.TIMED_OUT;

/** The four ways a job can end, for validating specs. */
export const JOB_ENDS: readonly JobEnd[] = [
  JobStatus.COMPLETED,
  JobStatus.FAILED,
  JobStatus.CANCELLED,
  JobStatus.TIMED_OUT,
];

/** What a job does: its `operationURI` and, for jobs started through the admin API, the change it makes. */
export interface Operation {
  /** The job's `operationURI`, with context: `/arcgis/admin/services/Name.MapServer/edit`. */
  readonly uri: string;
  /** The operation's kind, read from the URI. */
  readonly kind: 'edit' | 'start' | 'stop' | 'deleteServices' | 'backup' | 'other';
  /** The service(s) it acts on. */
  readonly services: readonly ServiceKey[];
  /** The edited service JSON of an `edit` started through the admin API. */
  readonly payload?: Service;
  /** Whether completing the job changes the catalogue (only jobs started through the admin API do). */
  readonly effects: boolean;
}

/** Reads an operation URI into an {@link Operation} without effects (control and workload jobs). */
export function operationFromUri(uri: string): Operation {
  const info = parseOperationUri(uri);
  const services: ServiceKey[] =
    info.target === 'service' && info.serviceName && info.serviceType
      ? [{ folder: info.folder ?? '', name: info.serviceName, type: info.serviceType }]
      : [];
  const kind =
    info.target === 'backup'
      ? 'backup'
      : info.operation === 'edit' ||
          info.operation === 'start' ||
          info.operation === 'stop' ||
          info.operation === 'deleteServices'
        ? info.operation
        : 'other';
  return { uri, kind, services, effects: false };
}

/**
 * One job. Kept small on purpose (100,000 of them should cost little memory): the status
 * is not stored but computed from the start time, duration, end and blip count, so no
 * timer runs per job.
 */
export class SimJob {
  constructor(
    readonly id: JobId,
    /** Epoch ms when the job was submitted. */
    readonly start: number,
    /** Milliseconds from submission to the end. */
    readonly duration: number,
    /** How it ends; an API job whose change cannot be made turns `FAILED` at its end. */
    public end: JobEnd,
    /** `UNAVAILABLE` blips while executing. */
    readonly blips: number,
    readonly op: Operation,
    readonly username: string,
  ) {}

  /** Set when an API job ends: the result it reports from then on. */
  result: Record<string, unknown> | undefined = undefined;
  /** Set when an API job fails at its end: why. */
  failure: string | undefined = undefined;
  /** A scripted timeline (`[offset ms, status]`) replacing the usual one before the end. */
  timeline: ReadonlyArray<readonly [number, string]> | undefined = undefined;
  /** The quirks this job shows whatever the simulator-wide setting (from its spec), if any. */
  quirks: readonly QuirkNameValue[] | undefined = undefined;

  /** Epoch ms of the end. */
  get endsAt(): number {
    return this.start + this.duration;
  }
}

/** The status a job reports at a moment, and when it last changed. */
export interface JobState {
  readonly status: string;
  /** Epoch ms of the last change (the job's `updatedtime`). */
  readonly updated: number;
  /** Whether the job has ended. */
  readonly ended: boolean;
}

/**
 * The job's transitions as `[offset ms, status]` pairs, in order. SUBMITTED for the first
 * tenth (at most a second), then EXECUTING; blips of UNAVAILABLE spread evenly over the
 * executing span; a cancelled job passes through CANCELLING (its rollback) for the last 40%.
 * A scripted timeline replaces all of that: SUBMITTED, then its entries, then the end.
 */
export function transitions(
  job: Pick<SimJob, 'duration' | 'end' | 'blips' | 'timeline'>,
): Array<readonly [number, string]> {
  const d = job.duration;
  if (d <= 0) return [[0, job.end]];
  if (job.timeline) return [[0, JobStatus.SUBMITTED], ...job.timeline, [d, job.end]];
  const submitted = Math.max(1, Math.min(1000, Math.floor(d * 0.1)));
  const out: Array<[number, KnownJobStatus]> = [[0, JobStatus.SUBMITTED]];
  if (submitted >= d) {
    out.push([d, job.end]);
    return out;
  }
  out.push([submitted, JobStatus.EXECUTING]);
  const runEnd =
    job.end === JobStatus.CANCELLED ? submitted + Math.floor((d - submitted) * 0.6) : d;
  const span = runEnd - submitted;
  const slots = 2 * job.blips + 1;
  const blip = Math.min(2000, Math.floor(span / slots));
  if (job.blips > 0 && blip >= 1) {
    for (let i = 0; i < job.blips; i++) {
      const at = submitted + Math.floor((span * (2 * i + 1)) / slots);
      out.push([at, JobStatus.UNAVAILABLE], [at + blip, JobStatus.EXECUTING]);
    }
  }
  if (job.end === JobStatus.CANCELLED && runEnd < d) out.push([runEnd, JobStatus.CANCELLING]);
  out.push([d, job.end]);
  return out;
}

/** The job's status at `now`. Before its start a job reads as SUBMITTED. */
export function stateAt(job: SimJob, now: number): JobState {
  const elapsed = now - job.start;
  if (elapsed >= job.duration) return { status: job.end, updated: job.endsAt, ended: true };
  let status: string = JobStatus.SUBMITTED;
  let at = 0;
  for (const [offset, s] of transitions(job)) {
    if (offset > elapsed) break;
    status = s;
    at = offset;
  }
  return { status, updated: job.start + at, ended: false };
}

const STAGES = [
  'Validation',
  'Configuration Store',
  'Relational Data Store',
  'Object Store',
  'Finalization',
];
const STAGE_SHARE = [0.1, 0.15, 0.35, 0.3, 0.1];

/** A backup's `result.stages[]`: each `{name, state, duration, lastUpdated}`; a failed backup stops at its third stage. */
export function backupStages(job: SimJob): Array<Record<string, unknown>> {
  const executingFrom = transitions(job)[1]?.[0] ?? 0;
  const span = Math.max(0, job.duration - executingFrom);
  const failedAt = job.end === JobStatus.COMPLETED ? -1 : 2;
  const stages: Array<Record<string, unknown>> = [];
  let t = job.start + executingFrom;
  for (let i = 0; i < STAGES.length; i++) {
    const ms =
      i === STAGES.length - 1 || i === failedAt
        ? job.endsAt - t
        : Math.floor(span * (STAGE_SHARE[i] ?? 0));
    t += ms;
    stages.push({
      name: STAGES[i],
      state: i === failedAt ? 'failed' : 'completed',
      duration: `${ms} millis (~ ${Math.floor(ms / 60000)} minutes)`,
      lastUpdated: t,
    });
    if (i === failedAt) break;
  }
  return stages;
}

function subject(op: Operation): string {
  const first = op.services[0];
  if (op.kind === 'deleteServices')
    return op.services.length === 1 && first
      ? `service '${serviceKeyString(first)}'`
      : 'the services';
  return first ? `service '${serviceKeyString(first)}'` : 'the operation';
}

/** The messages a job carries when it did not complete. */
export function endMessages(job: SimJob): string[] | undefined {
  switch (job.end) {
    case JobStatus.FAILED:
      return [job.failure ?? `${what(job)} failed.`, 'See the server logs for details.'];
    case JobStatus.CANCELLED:
      return [`${what(job)} was cancelled; its changes were rolled back.`];
    case JobStatus.TIMED_OUT:
      return [`${what(job)} did not finish in the allowed time.`];
    default:
      return undefined;
  }
}

/** What a job did, as the subject of a sentence: "The backup", "The edit operation of service 'x'". */
function what(job: SimJob): string {
  return job.op.kind === 'backup' ? 'The backup' : `The ${op(job)} of ${subject(job.op)}`;
}

function op(job: SimJob): string {
  return job.op.kind === 'other' ? 'operation' : `${job.op.kind} operation`;
}

/** A service JSON for a job whose target is not in the catalogue (control jobs may name any service). */
function standIn(key: ServiceKey, catalogue: Catalogue): Service {
  const base = catalogue.all()[0];
  return {
    ...structuredClone(base ?? { serviceName: key.name, type: key.type }),
    serviceName: key.name,
    type: key.type,
    folderName: key.folder,
  };
}

/** The job's `result` at its end (undefined while running, and for CANCELLED and TIMED OUT jobs). */
export function resultOf(job: SimJob, catalogue: Catalogue): Record<string, unknown> | undefined {
  if (job.result) return job.result;
  if (job.end === JobStatus.COMPLETED) {
    if (job.op.kind === 'backup') return { stages: backupStages(job) };
    const key = job.op.services[0];
    if (job.op.kind === 'edit' && key)
      return { service: structuredClone(catalogue.get(key) ?? standIn(key, catalogue)) };
    return { status: 'success' };
  }
  if (job.end === JobStatus.FAILED) {
    const failed = { status: 'failed', messages: endMessages(job) ?? [] };
    return job.op.kind === 'backup' ? { ...failed, stages: backupStages(job) } : failed;
  }
  return undefined;
}

/**
 * The job body as `GET <root>/jobs/<jobid>` answers it: the documented shape, or, with
 * `quirks`, varied the way real servers vary it.
 */
export function jobBody(
  job: SimJob,
  now: number,
  catalogue: Catalogue,
  quirks?: ReadonlySet<QuirkNameValue>,
): Record<string, unknown> {
  const state = stateAt(job, now);
  const body: Record<string, unknown> = {
    jobid: job.id,
    status: state.status,
    starttime: job.start,
    endtime: state.ended ? job.endsAt : 0,
    updatedtime: state.updated,
    operationURI: job.op.uri,
    username: job.username,
  };
  if (state.ended) {
    const result = resultOf(job, catalogue);
    if (result) body.result = result;
    const messages = endMessages(job);
    if (messages) body.messages = messages;
  }
  return quirks ? withQuirks(body, job, quirks) : body;
}

const MESSAGE_TYPE: Record<string, string> = {
  FAILED: 'esriJobMessageTypeError',
  'TIMED OUT': 'esriJobMessageTypeError',
  CANCELLED: 'esriJobMessageTypeWarning',
};

/** Messages as `{type, description}` objects, or (`mixed`) the first as one and the rest as strings. */
function messageForms(messages: readonly string[], job: SimJob, mixed: boolean): unknown[] {
  const type = (i: number) =>
    i === 0
      ? (MESSAGE_TYPE[job.end] ?? 'esriJobMessageTypeError')
      : 'esriJobMessageTypeInformative';
  if (!mixed) return messages.map((description, i) => ({ type: type(i), description }));
  const rest =
    messages.length > 1
      ? messages.slice(1)
      : [`The job ended at ${new Date(job.endsAt).toISOString()}.`];
  return [{ type: type(0), description: messages[0] ?? '' }, ...rest];
}

/** A documented job body varied by a job's quirks (see `QuirkName`). */
function withQuirks(
  body: Record<string, unknown>,
  job: SimJob,
  quirks: ReadonlySet<QuirkNameValue>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...body,
    status: spellStatus(String(body.status), quirks),
  };
  if (quirks.has('stringTimestamps'))
    for (const key of ['starttime', 'endtime', 'updatedtime']) out[key] = String(body[key]);
  if (quirks.has('noOperationUri')) delete out.operationURI;
  if (quirks.has('nullUsername')) out.username = null;
  const messages = body.messages as string[] | undefined;
  const forms = quirks.has('messageObjects') || quirks.has('mixedMessages');
  if (messages && forms) out.messages = messageForms(messages, job, quirks.has('mixedMessages'));
  const result = body.result as Record<string, unknown> | undefined;
  if (result && body.status === JobStatus.FAILED) {
    const first = messages?.[0] ?? 'The operation failed.';
    if (quirks.has('noResult')) delete out.result;
    else if (quirks.has('nullResult')) out.result = null;
    else if (quirks.has('stringResult')) out.result = first;
    else if (quirks.has('errorResult')) out.result = { error: { message: first } };
    else if (forms && Array.isArray(result.messages))
      out.result = {
        ...result,
        messages: messageForms(result.messages as string[], job, quirks.has('mixedMessages')),
      };
    // The reason stays somewhere: only a result that carries it lets the messages go.
    if (quirks.has('noMessages') && out.result !== undefined && out.result !== null)
      delete out.messages;
  }
  if (result && body.status === JobStatus.COMPLETED) {
    if (quirks.has('backupNoResult') && job.op.kind === 'backup') delete out.result;
    else if (quirks.has('typedProperties') && typeof result.service === 'object' && result.service)
      out.result = { ...result, service: typedService(result.service as Record<string, unknown>) };
  }
  if (quirks.has('extraFields')) {
    out.jobType = job.op.kind.toUpperCase();
    out.machineName = 'arcgis-server-0';
    out.retryCount = 0;
    out.details = { queue: 'default', priority: 5 };
  }
  return out;
}

/** Where jobs live, with lazy purging after retention. */
export class JobStore extends TimedStore<SimJob> {
  /** API jobs whose completion changes the catalogue, ordered by end. */
  readonly #pending: SimJob[] = [];

  /**
   * Adds a job; an API job with effects is queued for {@link JobStore.due}. Purging a queued
   * job later forgets it but does not undo its change: the change still happens at its end.
   */
  override add(job: SimJob): void {
    super.add(job);
    if (job.op.effects) {
      let i = this.#pending.length;
      while (i > 0 && (this.#pending[i - 1]?.endsAt ?? 0) > job.endsAt) i--;
      this.#pending.splice(i, 0, job);
    }
  }

  /** Takes the next API job that has ended by `now`, in order of end, if any. */
  due(now: number): SimJob | undefined {
    const next = this.#pending[0];
    if (next && next.endsAt <= now) return this.#pending.shift();
    return undefined;
  }

  /** Ids of every job not yet purged, oldest first. */
  ids(now: number): string[] {
    return this.list(now).map((job) => job.id);
  }
}
