import { parseJobId, type Service } from '@jobwatch/schema';
import type { ServiceKey } from './catalogue.js';
import type { SimClock } from './clock.js';
import { GpJob, GpJobs, parseGpJobSpec } from './gp-jobs.js';
import type { GpTask } from './gp-tasks.js';
import { ItemJob, ItemJobs, parseItemJobSpec } from './item-jobs.js';
import { parseQuirks } from './quirks.js';
import { createRandom, logUniform, type Random, randomHex, randomJobId } from './random.js';
import {
  countedSteps,
  operationSteps,
  parseServerJobSpec,
  parseServicePath,
  ServerJob,
  ServerJobs,
  type ServerOperation,
} from './server-jobs.js';

/** What the sister sources need of the site's settings. */
export interface SourcesSettings {
  readonly seed: number;
  readonly retentionMs: number;
  readonly users: Readonly<Record<string, string>>;
  readonly defaultUser: string;
  readonly operationDurationMs: { readonly min: number; readonly max: number };
}

/** Makes a change in the catalogue; a string says why it could not be made. */
export type ApplyChange = (change: {
  readonly operation: ServerOperation;
  readonly service: ServiceKey;
  readonly payload?: Service;
}) => string | undefined;

/**
 * The jobs of the three sister sources — ArcGIS Server admin jobs, geoprocessing jobs and
 * portal item jobs — on the site's clock, with ids from their own seeded streams (so the
 * admin jobs' ids and every documented transcript stay what they were).
 */
export class Sources {
  readonly server: ServerJobs;
  readonly gp: GpJobs;
  readonly items: ItemJobs;
  readonly #serverIds: Random;
  readonly #gpIds: Random;
  readonly #itemIds: Random;
  readonly #durations: Random;

  constructor(
    readonly clock: SimClock,
    readonly settings: SourcesSettings,
  ) {
    this.server = new ServerJobs(settings.retentionMs);
    this.gp = new GpJobs(settings.retentionMs);
    this.items = new ItemJobs(settings.retentionMs);
    this.#serverIds = createRandom(settings.seed, 'server-ids');
    this.#gpIds = createRandom(settings.seed, 'gp-ids');
    this.#itemIds = createRandom(settings.seed, 'item-ids');
    this.#durations = createRandom(settings.seed, 'source-durations');
  }

  /** Jobs held, of all three sources. */
  get size(): number {
    return this.server.size + this.gp.size + this.items.size;
  }

  #duration(): number {
    const { min, max } = this.settings.operationDurationMs;
    return logUniform(this.#durations, min, max);
  }

  #serverId(): string {
    let id = randomJobId(this.#serverIds);
    while (this.server.has(id)) id = randomJobId(this.#serverIds);
    return id;
  }

  /** Creates an ArcGIS Server admin job from a control spec. @throws `SimulatorError` `INVALID_SPEC` */
  createServerJob(input: unknown, now: number): ServerJob {
    const spec = parseServerJobSpec(input);
    const service = parseServicePath(spec.service ?? 'SampleWorldCities.MapServer')!;
    const operation = spec.operation ?? 'edit';
    const steps =
      spec.steps === undefined
        ? operationSteps(operation, service)
        : typeof spec.steps === 'number'
          ? countedSteps(spec.steps, operation, service)
          : [...spec.steps];
    const job = new ServerJob(
      parseJobId(this.#serverId()),
      now,
      spec.durationMs,
      spec.outcome,
      steps,
      service,
      operation,
    );
    if (spec.quirks !== undefined) job.quirks = parseQuirks(spec.quirks);
    this.server.add(job);
    return job;
  }

  /** Starts the job of an admin operation run with `runAsync=true`; it makes its change when it ends. */
  startServerOperation(
    operation: ServerOperation,
    service: ServiceKey,
    payload: Service | undefined,
    now: number,
  ): ServerJob {
    const job = new ServerJob(
      parseJobId(this.#serverId()),
      now,
      this.#duration(),
      'COMPLETED',
      operationSteps(operation, service),
      service,
      operation,
    );
    job.effect = payload ? { payload } : {};
    this.server.add(job);
    return job;
  }

  #gpId(): string {
    let id = `j${randomHex(this.#gpIds, 32)}`;
    while (this.gp.has(id)) id = `j${randomHex(this.#gpIds, 32)}`;
    return id;
  }

  /** Creates a geoprocessing job from a control spec. @throws `SimulatorError` `INVALID_SPEC` */
  createGpJob(input: unknown, now: number): GpJob {
    const { spec, task, inputs } = parseGpJobSpec(input);
    const job = new GpJob(this.#gpId(), task, now, spec.durationMs, spec.outcome, inputs);
    if (spec.quirks !== undefined) job.quirks = parseQuirks(spec.quirks);
    this.gp.add(job);
    return job;
  }

  /** A job `submitJob` starts: it succeeds after a seeded duration. */
  submitGpJob(task: GpTask, inputs: Record<string, unknown>, now: number): GpJob {
    const job = new GpJob(this.#gpId(), task, now, this.#duration(), 'esriJobSucceeded', inputs);
    this.gp.add(job);
    return job;
  }

  /** Creates a portal item job from a control spec. @throws `SimulatorError` `INVALID_SPEC` */
  createItemJob(input: unknown, now: number): ItemJob {
    const spec = parseItemJobSpec(input, this.settings.users);
    let id = randomJobId(this.#itemIds).slice(1);
    while (this.items.has(id)) id = randomJobId(this.#itemIds).slice(1);
    const job = new ItemJob(
      id,
      spec.itemId ?? randomHex(this.#itemIds, 32),
      spec.jobType ?? 'publish',
      spec.username ?? this.settings.defaultUser,
      now,
      spec.durationMs,
      spec.outcome,
      spec.partialMs ?? 0,
    );
    if (spec.quirks !== undefined) job.quirks = parseQuirks(spec.quirks);
    this.items.add(job);
    return job;
  }

  /** Makes the changes of server jobs that have ended by `now`; drops jobs past retention. */
  settle(now: number, apply: ApplyChange): void {
    for (let job = this.server.due(now); job; job = this.server.due(now)) {
      const failure = apply({
        operation: job.operation,
        service: job.service,
        ...(job.effect?.payload ? { payload: job.effect.payload as Service } : {}),
      });
      if (failure) {
        job.end = 'COMPLETED_WITH_ERROR';
        job.failure = failure;
      }
    }
    this.server.sweep(now);
    this.gp.sweep(now);
    this.items.sweep(now);
  }
}
