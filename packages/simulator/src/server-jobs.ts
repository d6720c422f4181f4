import type { JobId } from '@jobwatch/schema';
import { type ServiceKey, serviceKeyString } from './catalogue.js';
import { SimulatorError } from './errors.js';
import type { QuirkNameValue, QuirksOption } from './quirks.js';
import { checkDuration, checkQuirks } from './spec.js';
import { TimedStore } from './store.js';

/**
 * How a simulated ArcGIS Server admin job ends. `COMPLETED_WITH_ERROR` is the case Esri's
 * own documentation shows: `status: "COMPLETED"` while `operationResponse.status` is
 * `"error"` — the job ran to its end, the operation failed.
 */
export type ServerJobEnd = 'COMPLETED' | 'COMPLETED_WITH_ERROR' | 'FAILED' | 'CANCELLED';

/** Every {@link ServerJobEnd}, for validating specs. */
export const SERVER_JOB_ENDS: readonly ServerJobEnd[] = Object.freeze([
  'COMPLETED',
  'COMPLETED_WITH_ERROR',
  'FAILED',
  'CANCELLED',
]);

/**
 * An ArcGIS Server admin job to create through the control surface
 * (`POST /__sim/server/jobs` or `sim.createServerJob`).
 *
 * @example
 * ```ts
 * const { jobid } = sim.createServerJob({ outcome: 'COMPLETED_WITH_ERROR', durationMs: 4000, steps: 3 });
 * ```
 */
export interface ServerJobSpec {
  /** How the job ends. */
  readonly outcome: ServerJobEnd;
  /** Milliseconds from submission to the end. */
  readonly durationMs: number;
  /**
   * The steps: a count (1–50) of generated step texts, or the texts themselves (1–50, each
   * 1–500 characters). @default the three steps of a service edit
   */
  readonly steps?: number | readonly string[];
  /** The service the job acts on, `[Folder/]Name.Type`. @default 'SampleWorldCities.MapServer' */
  readonly service?: string;
  /** The operation, `edit`, `start`, `stop` or `delete`. @default 'edit' */
  readonly operation?: ServerOperation;
  /** The quirks this job shows whatever the simulator-wide setting (`stepInfoOverflow`). */
  readonly quirks?: QuirksOption;
}

/** The admin operations a simulated ArcGIS Server runs as jobs. */
export type ServerOperation = 'edit' | 'start' | 'stop' | 'delete';

const OPERATIONS: readonly ServerOperation[] = ['edit', 'start', 'stop', 'delete'];
/** The machine the simulated site runs on, as step texts name it. */
export const SERVER_MACHINE = 'SERVER.EXAMPLE.COM';
const SERVICE = /^(?:([A-Za-z0-9_-]+)\/)?([A-Za-z0-9_-]+)\.([A-Za-z][A-Za-z0-9]*)$/;

/** One ArcGIS Server admin job; its state is computed from the clock, like the admin jobs'. */
export class ServerJob {
  constructor(
    readonly id: JobId,
    /** Epoch ms when the job was submitted. */
    readonly start: number,
    /** Milliseconds from submission to the end. */
    readonly duration: number,
    /** How it ends; a job started over HTTP whose change cannot be made ends `COMPLETED_WITH_ERROR`. */
    public end: ServerJobEnd,
    /** The step texts, in order (`totalsteps` is their count). */
    readonly steps: readonly string[],
    readonly service: ServiceKey,
    readonly operation: ServerOperation,
  ) {}

  /** Why the operation failed, when it did (replaces the generated message). */
  failure: string | undefined = undefined;
  /** The quirks this job shows whatever the simulator-wide setting, if any. */
  quirks: readonly QuirkNameValue[] | undefined = undefined;
  /** A change to make in the catalogue when the job completes (jobs started over HTTP). */
  effect: { readonly payload?: unknown } | undefined = undefined;

  /** Epoch ms of the end. */
  get endsAt(): number {
    return this.start + this.duration;
  }
}

/** The steps a job has run up to `now` and its status. */
export interface ServerJobState {
  readonly status: 'SUBMITTED' | 'EXECUTING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  /** Steps begun (0 while SUBMITTED). */
  readonly currentstep: number;
  readonly ended: boolean;
}

/** The step at which a failed or cancelled job stops: about half way. */
function stopStep(job: ServerJob): number {
  return Math.max(1, Math.ceil(job.steps.length / 2));
}

/**
 * A job's state at `now`: SUBMITTED for the first tenth (at most a second), then EXECUTING
 * with its steps begun evenly over the rest, then its end. A job that fails or is cancelled
 * stops about half way through its steps.
 */
export function serverStateAt(job: ServerJob, now: number): ServerJobState {
  const total = job.steps.length;
  const ran = job.end === 'FAILED' || job.end === 'CANCELLED' ? stopStep(job) : job.steps.length;
  const elapsed = now - job.start;
  if (elapsed >= job.duration) {
    const status =
      job.end === 'COMPLETED_WITH_ERROR' ? 'COMPLETED' : (job.end as ServerJobState['status']);
    return { status, currentstep: ran, ended: true };
  }
  const submitted = Math.max(1, Math.min(1000, Math.floor(job.duration * 0.1)));
  if (elapsed < submitted) return { status: 'SUBMITTED', currentstep: 0, ended: false };
  const span = Math.max(1, job.duration - submitted);
  const step = Math.min(ran, 1 + Math.floor(((elapsed - submitted) * ran) / span));
  return { status: 'EXECUTING', currentstep: Math.min(step, total), ended: false };
}

/** What the job's operation answered, once it has ended. */
function operationResponse(job: ServerJob): Record<string, unknown> {
  const name = serviceKeyString(job.service);
  switch (job.end) {
    case 'COMPLETED':
      return { status: 'success' };
    case 'COMPLETED_WITH_ERROR': {
      const message = job.failure ?? 'service failed to start';
      return {
        status: 'error',
        messages: [message],
        detail: {
          service: name,
          state: 'FAILED',
          message: '',
          machines: [
            {
              machine: SERVER_MACHINE,
              state: 'FAILED',
              reports: [
                {
                  state: 'FAILED',
                  message: `Cannot open file /arcgisserver/directories/arcgissystem/${job.service.name}.msd. The system cannot find the file specified or it is inaccessible to the server.`,
                },
              ],
            },
          ],
        },
      };
    }
    case 'FAILED':
      return {
        status: 'error',
        messages: [job.failure ?? `The ${job.operation} operation of service '${name}' failed.`],
        code: 500,
      };
    case 'CANCELLED':
      return {
        status: 'error',
        messages: [`The ${job.operation} operation of service '${name}' was cancelled.`],
      };
  }
}

/**
 * The body `GET <server>/admin/system/jobs/<jobid>` answers: `{jobid, status, totalsteps,
 * currentstep, stepInfo, operationResponse}` (the last once the job has ended).
 */
export function serverJobBody(
  job: ServerJob,
  now: number,
  quirks?: ReadonlySet<QuirkNameValue>,
): Record<string, unknown> {
  const state = serverStateAt(job, now);
  const stepInfo = job.steps.slice(0, state.currentstep);
  const body: Record<string, unknown> = {
    jobid: job.id,
    status: state.status,
    totalsteps: job.steps.length,
    currentstep: state.currentstep,
    stepInfo,
  };
  if (state.ended) {
    if (quirks?.has('stepInfoOverflow') && job.end !== 'COMPLETED') {
      body.stepInfo = [
        ...stepInfo,
        `Stopping the service '${job.service.name}' on machine '${SERVER_MACHINE}'`,
      ];
    }
    body.operationResponse = operationResponse(job);
  }
  return body;
}

/** The step texts of an operation on a service. */
export function operationSteps(operation: ServerOperation, service: ServiceKey): string[] {
  const name = service.name;
  const on = `on machine '${SERVER_MACHINE}'`;
  switch (operation) {
    case 'edit':
      return [
        `Stopping the service '${name}' ${on}`,
        'Saving edits to the configuration store',
        `Starting the service '${name}' ${on}`,
      ];
    case 'start':
      return [
        `Validating the service '${name}'`,
        `Starting the service '${name}' ${on}`,
        `Waiting for the service '${name}' to report STARTED`,
      ];
    case 'stop':
      return [`Stopping the service '${name}' ${on}`, `Releasing the instances of '${name}'`];
    case 'delete':
      return [
        `Stopping the service '${name}' ${on}`,
        `Deleting the service '${name}' from the configuration store`,
        `Removing the directories of '${name}'`,
      ];
  }
}

/** Reads `[Folder/]Name.Type` into a service key, or `undefined`. */
export function parseServicePath(path: string): ServiceKey | undefined {
  const m = SERVICE.exec(path);
  return m ? { folder: m[1] ?? '', name: m[2]!, type: m[3]! } : undefined;
}

/**
 * Checks a server job spec from untrusted input.
 * @throws {@link SimulatorError} `INVALID_SPEC` naming the first problem.
 */
export function parseServerJobSpec(input: unknown): ServerJobSpec {
  const bad = (why: string): never => {
    throw new SimulatorError('INVALID_SPEC', `server job: ${why}`);
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    bad('expected an object');
  const { outcome, durationMs, steps, service, operation, quirks } = input as Record<
    string,
    unknown
  >;
  if (!SERVER_JOB_ENDS.includes(outcome as ServerJobEnd))
    bad(`outcome must be one of ${SERVER_JOB_ENDS.join(', ')}`);
  checkDuration(durationMs, bad);
  if (steps !== undefined) {
    const ok =
      (typeof steps === 'number' && Number.isInteger(steps) && steps >= 1 && steps <= 50) ||
      (Array.isArray(steps) &&
        steps.length >= 1 &&
        steps.length <= 50 &&
        steps.every(
          (s) =>
            typeof s === 'string' && s.length >= 1 && s.length <= 500 && !/[\u0000-\u001f]/.test(s),
        ));
    if (!ok) bad('steps must be a count from 1 to 50 or 1–50 texts of 1–500 characters');
  }
  if (service !== undefined && (typeof service !== 'string' || !parseServicePath(service)))
    bad('service must be [Folder/]Name.Type');
  if (operation !== undefined && !OPERATIONS.includes(operation as ServerOperation))
    bad(`operation must be one of ${OPERATIONS.join(', ')}`);
  checkQuirks(quirks, bad);
  return {
    outcome: outcome as ServerJobEnd,
    durationMs: Math.floor(durationMs as number),
    ...(steps !== undefined ? { steps: steps as number | string[] } : {}),
    ...(service !== undefined ? { service: service as string } : {}),
    ...(operation !== undefined ? { operation: operation as ServerOperation } : {}),
    ...(quirks !== undefined ? { quirks: quirks as QuirksOption } : {}),
  };
}

/** The ArcGIS Server admin jobs of a site. */
export class ServerJobs extends TimedStore<ServerJob> {
  /** Jobs started over HTTP whose change is still to be made, ordered by end. */
  readonly #pending: ServerJob[] = [];

  /** Adds a job; one with an effect is queued for {@link ServerJobs.due}. */
  override add(job: ServerJob): void {
    super.add(job);
    if (job.effect) {
      let i = this.#pending.length;
      while (i > 0 && (this.#pending[i - 1]?.endsAt ?? 0) > job.endsAt) i--;
      this.#pending.splice(i, 0, job);
    }
  }

  /** Takes the next job with an effect that has ended by `now`, if any. */
  due(now: number): ServerJob | undefined {
    const next = this.#pending[0];
    return next && next.endsAt <= now ? this.#pending.shift() : undefined;
  }
}

/** Generated step texts for a spec's step count. */
export function countedSteps(count: number, operation: ServerOperation, service: ServiceKey) {
  const named = operationSteps(operation, service);
  return Array.from({ length: count }, (_, i) =>
    count === named.length
      ? named[i]!
      : `Step ${i + 1} of ${count}: ${named[i % named.length]!.toLowerCase()}`,
  );
}
