import { SimulatorError } from './errors.js';
import { defaultInputs, findTask, type GpTask, readInputs, taskKey } from './gp-tasks.js';
import type { QuirkNameValue, QuirksOption } from './quirks.js';
import { checkDuration, checkQuirks } from './spec.js';
import { TimedStore } from './store.js';

/** How a simulated geoprocessing job ends, in the server's own vocabulary. */
export type GpJobEnd =
  | 'esriJobSucceeded'
  | 'esriJobFailed'
  | 'esriJobTimedOut'
  | 'esriJobCancelled';

/** Every {@link GpJobEnd}, for validating specs. */
export const GP_JOB_ENDS: readonly GpJobEnd[] = Object.freeze([
  'esriJobSucceeded',
  'esriJobFailed',
  'esriJobTimedOut',
  'esriJobCancelled',
]);

/**
 * A geoprocessing job to create through the control surface (`POST /__sim/gp/jobs` or
 * `sim.createGpJob`), as if `submitJob` had been called.
 *
 * @example
 * ```ts
 * const { jobId, jobUrl } = sim.createGpJob({ outcome: 'esriJobSucceeded', durationMs: 5000 });
 * ```
 */
export interface GpJobSpec {
  /** The task, `<folder>/<service>/<task>`. @default 'Tools/Buffer/BufferPoints' */
  readonly task?: string;
  /** How the job ends. */
  readonly outcome: GpJobEnd;
  /** Milliseconds from submission to the end. */
  readonly durationMs: number;
  /** Input values by parameter name, as `submitJob` takes them (objects or JSON text). @default the task's sample inputs */
  readonly params?: Readonly<Record<string, unknown>>;
  /** The quirks this job shows whatever the simulator-wide setting (`noProgress`, `expectedFailure`). */
  readonly quirks?: QuirksOption;
}

/** How long `cancel` takes to turn a job from `esriJobCancelling` into `esriJobCancelled`. */
export const GP_CANCEL_MS = 1000;

/** One geoprocessing job; its state is computed from the clock. */
export class GpJob {
  constructor(
    readonly id: string,
    readonly task: GpTask,
    /** Epoch ms of `submitJob`. */
    readonly start: number,
    /** Milliseconds from submission to the end, unless cancelled sooner. */
    readonly duration: number,
    readonly end: GpJobEnd,
    /** The checked input values. */
    readonly inputs: Readonly<Record<string, unknown>>,
  ) {}

  /** Epoch ms at which `cancel` was accepted, if it was. */
  cancelledAt: number | undefined = undefined;
  /** The quirks this job shows whatever the simulator-wide setting, if any. */
  quirks: readonly QuirkNameValue[] | undefined = undefined;
  #outputs: Record<string, unknown> | undefined;

  /** Epoch ms of the end. */
  get endsAt(): number {
    return this.cancelledAt === undefined
      ? this.start + this.duration
      : Math.min(this.start + this.duration, this.cancelledAt + GP_CANCEL_MS);
  }

  /** What the task computed (only asked of succeeded jobs). */
  outputs(): Record<string, unknown> {
    this.#outputs ??= this.task.run(this.inputs);
    return this.#outputs;
  }
}

/** A job's state at a moment. */
export interface GpJobState {
  readonly status:
    | 'esriJobSubmitted'
    | 'esriJobWaiting'
    | 'esriJobExecuting'
    | 'esriJobCancelling'
    | GpJobEnd;
  /** Epoch ms at which execution began (when it has). */
  readonly executingFrom: number;
  readonly ended: boolean;
}

/**
 * A job's state at `now`: `esriJobSubmitted` for the first 5% (at most half a second),
 * `esriJobWaiting` for the next, then `esriJobExecuting` until its end. A job that is
 * cancelled (by `cancel`, or created to end so) passes through `esriJobCancelling`.
 */
export function gpStateAt(job: GpJob, now: number): GpJobState {
  const d = job.duration;
  const phase = Math.max(1, Math.min(500, Math.floor(d * 0.05)));
  const executingFrom = job.start + Math.min(d, 2 * phase);
  const elapsed = now - job.start;
  if (job.cancelledAt !== undefined && now >= job.cancelledAt) {
    return now >= job.endsAt && job.endsAt < job.start + d
      ? { status: 'esriJobCancelled', executingFrom, ended: true }
      : now >= job.endsAt
        ? { status: job.end, executingFrom, ended: true }
        : { status: 'esriJobCancelling', executingFrom, ended: false };
  }
  if (elapsed >= d) return { status: job.end, executingFrom, ended: true };
  if (elapsed < phase) return { status: 'esriJobSubmitted', executingFrom, ended: false };
  if (now < executingFrom) return { status: 'esriJobWaiting', executingFrom, ended: false };
  if (job.end === 'esriJobCancelled' && job.start + d - now <= Math.min(GP_CANCEL_MS, d * 0.2))
    return { status: 'esriJobCancelling', executingFrom, ended: false };
  return { status: 'esriJobExecuting', executingFrom, ended: false };
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** `Tuesday, March 3, 2020 10:31:55 AM`, as geoprocessing messages print times (UTC here). */
export function gpTime(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${h % 12 || 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

function message(type: 'Informative' | 'Warning' | 'Error', description: string) {
  return { type: `esriJobMessageType${type}`, description };
}

/** The messages a job has written by `now`. */
function messagesAt(job: GpJob, state: GpJobState, now: number) {
  const out = [message('Informative', 'Submitted.')];
  if (now < state.executingFrom) return out;
  const started = state.executingFrom;
  out.push(
    message('Informative', 'Executing...'),
    message('Informative', `Start Time: ${gpTime(started)}`),
    message('Informative', `Running script ${job.task.name}...`),
  );
  if (!state.ended) {
    if (state.status === 'esriJobCancelling')
      out.push(message('Warning', 'Cancel request received.'));
    return out;
  }
  const at = job.endsAt;
  const elapsed = `(Elapsed Time: ${((at - started) / 1000).toFixed(2)} seconds)`;
  switch (state.status) {
    case 'esriJobSucceeded':
      out.push(
        message('Informative', `Completed script ${job.task.name}...`),
        message('Informative', `Succeeded at ${gpTime(at)} ${elapsed}`),
      );
      break;
    case 'esriJobFailed':
      out.push(
        message('Error', job.task.failure),
        message('Error', `Failed to execute (${job.task.name}).`),
        message('Error', `Failed at ${gpTime(at)} ${elapsed}`),
      );
      break;
    case 'esriJobTimedOut':
      out.push(
        message('Error', `The job exceeded the maximum time allowed for ${job.task.name}.`),
        message('Error', `Failed at ${gpTime(at)} ${elapsed}`),
      );
      break;
    default:
      out.push(
        message('Warning', 'Cancel request received.'),
        message('Error', `Cancelled at ${gpTime(at)} ${elapsed}`),
      );
  }
  return out;
}

/**
 * The body `GET <task>/jobs/<jobId>` answers: `{jobId, jobStatus, progress?, results?,
 * inputs?, messages}` — `progress` only while executing, `results` and `inputs` (each
 * `{name: {paramUrl}}`) once the job has succeeded.
 */
export function gpJobBody(
  job: GpJob,
  now: number,
  quirks?: ReadonlySet<QuirkNameValue>,
): Record<string, unknown> {
  const state = gpStateAt(job, now);
  const status =
    state.status === 'esriJobFailed' && quirks?.has('expectedFailure')
      ? 'expectedFailure'
      : state.status;
  const body: Record<string, unknown> = { jobId: job.id, jobStatus: status };
  if (state.status === 'esriJobExecuting' && !quirks?.has('noProgress')) {
    const span = Math.max(1, job.start + job.duration - state.executingFrom);
    const share = Math.min(0.99, Math.max(0, (now - state.executingFrom) / span));
    const phases = job.task.phases;
    const text = phases[Math.min(phases.length - 1, Math.floor(share * phases.length))] ?? '';
    body.progress =
      job.task.progressor === 'step'
        ? { type: 'step', message: text, percentage: Math.floor(share * 100) }
        : { type: 'default', message: text };
  }
  if (state.status === 'esriJobSucceeded') {
    const params = (direction: string, prefix: string) =>
      Object.fromEntries(
        job.task.parameters
          .filter((p) => p.direction === direction)
          .map((p) => [p.name, { paramUrl: `${prefix}/${p.name}` }]),
      );
    body.results = params('esriGPParameterDirectionOutput', 'results');
    body.inputs = params('esriGPParameterDirectionInput', 'inputs');
  }
  body.messages = messagesAt(job, state, now);
  return body;
}

/**
 * Checks a GP job spec from untrusted input, with its task and inputs read.
 * @throws {@link SimulatorError} `INVALID_SPEC` naming the first problem.
 */
export function parseGpJobSpec(input: unknown): {
  spec: GpJobSpec;
  task: GpTask;
  inputs: Record<string, unknown>;
} {
  const bad = (why: string): never => {
    throw new SimulatorError('INVALID_SPEC', `gp job: ${why}`);
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    bad('expected an object');
  const { task, outcome, durationMs, params, quirks } = input as Record<string, unknown>;
  const key = task ?? 'Tools/Buffer/BufferPoints';
  const parts = typeof key === 'string' ? key.split('/') : [];
  const found = parts.length === 3 ? findTask(parts[0]!, parts[1]!, parts[2]!) : undefined;
  if (!found)
    bad(
      `task must be one of ${['Tools/Buffer/BufferPoints', 'Tools/Hotspots/Find Hot Spots'].join(', ')}`,
    );
  if (!GP_JOB_ENDS.includes(outcome as GpJobEnd))
    bad(`outcome must be one of ${GP_JOB_ENDS.join(', ')}`);
  checkDuration(durationMs, bad);
  if (
    params !== undefined &&
    (typeof params !== 'object' || params === null || Array.isArray(params))
  )
    bad('params must be an object of input values by name');
  checkQuirks(quirks, bad);
  const samples = defaultInputs(found!);
  const inputs = readInputs(found!, (name) =>
    params === undefined
      ? samples[name]
      : Object.hasOwn(params as object, name)
        ? (params as Record<string, unknown>)[name]
        : undefined,
  );
  if (typeof inputs === 'string') bad(inputs);
  return {
    spec: {
      task: taskKey(found!),
      outcome: outcome as GpJobEnd,
      durationMs: Math.floor(durationMs as number),
      ...(params !== undefined ? { params: params as Record<string, unknown> } : {}),
      ...(quirks !== undefined ? { quirks: quirks as QuirksOption } : {}),
    },
    task: found!,
    inputs: inputs as Record<string, unknown>,
  };
}

/** The geoprocessing jobs of a site. */
export class GpJobs extends TimedStore<GpJob> {}
