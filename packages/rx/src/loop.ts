import { ErrorCode, type JobRead, type JobwatchError, toJobwatchError } from '@jobwatch/client';
import {
  type Job,
  type JobRef,
  type JobSource,
  JobStatus,
  jobOutcome,
  makeSnapshot,
  type SchemaWarning,
  type Snapshot,
  type SnapshotTrouble,
  sourceProgress,
  sourceStatus,
  statusKind,
  visiblyDiffers,
} from '@jobwatch/schema';
import type { SchedulerAction, SchedulerLike, Subscriber, Subscription } from 'rxjs';
import { type RequestBudget, Ticket } from './budget.js';
import { UnknownStatusError } from './errors.js';
import { makeEta } from './eta.js';
import type { DurationEstimate, DurationModel, JobKind } from './model.js';
import { learnedPollDelay, nextPollDelay, type ResolvedPacing, troubleDelay } from './pacing.js';
import { scheduleAfter } from './timers.js';

/**
 * What to do with a status jobwatch does not know (a newer server may add some):
 * - `'watch'` (default): keep watching, and show it (`kind: 'unknown'` on the snapshot);
 * - `'error'`: emit the snapshot, then end the stream with an {@link UnknownStatusError};
 * - `'complete'`: emit the snapshot, then complete as if the job had ended.
 */
export type UnknownStatusPolicy = 'watch' | 'error' | 'complete';

/** What {@link WatcherOptions.onUnknownStatus} is told: a job reached a status jobwatch does not know. */
export interface UnknownStatusEvent {
  readonly deployment: string;
  readonly jobid: string;
  /** The status as the server sent it. */
  readonly status: string;
  /** What the watch does about it: the watcher's {@link UnknownStatusPolicy}. */
  readonly policy: UnknownStatusPolicy;
}

/** What every poll loop of one watcher shares; built by the watcher. @internal */
export interface LoopShared {
  readonly deployment: string;
  readonly fetchJob: (jobid: string, signal: AbortSignal) => PromiseLike<JobRead>;
  readonly budget: RequestBudget;
  readonly scheduler: SchedulerLike;
  readonly now: () => number;
  readonly pacing: ResolvedPacing;
  readonly unknownStatus: UnknownStatusPolicy;
  readonly maxSchemaFailures: number;
  /** How long the loop keeps going after its last subscriber left, in ms. */
  readonly grace: number;
  /** What the watcher learns job durations into and paces by, if anything. */
  readonly model: DurationModel | undefined;
  /** The kind of a job, for the model. */
  readonly kindOf: (job: Job) => JobKind | undefined;
  /** Told once when a loop has stopped for good, so the registry forgets it. */
  readonly onEnd: (loop: JobLoop) => void;
  /** Told each time a job's status becomes one jobwatch does not know. */
  readonly onUnknownStatus: ((event: UnknownStatusEvent) => void) | undefined;
}

/**
 * A job of another source than the watcher's admin jobs: its reference (which decides what
 * its status means, and where progress, step and results come from) and how to read it.
 * @internal
 */
export interface LoopSource {
  readonly ref: JobRef;
  /** The registry key of the loop (`jobRefKey`). */
  readonly key: string;
  readonly fetch: (signal: AbortSignal) => PromiseLike<JobRead>;
}

/** The outcome of one poll: what to emit, when to poll next (none: done), or why to stop. */
interface Step {
  readonly emit: Snapshot | undefined;
  readonly next: number | undefined;
  readonly error: JobwatchError | undefined;
}

/**
 * One job's poll loop, shared by all its subscribers: polls at once, then again only after
 * each answer, after a paced wait; every request goes through the budget. Subscribers get
 * the latest emitted snapshot at once, then each visible change, the terminal snapshot and
 * completion, or a typed error on fatal trouble. When the last subscriber leaves, the loop
 * goes on for a short grace, then stops.
 *
 * Hand-written rather than composed from operators: a watched job costs one object, its
 * snapshot and one pending timer or request, which keeps ten thousand jobs cheap.
 * @internal
 */
export class JobLoop {
  /** The last snapshot built, emitted or not. */
  latest: Snapshot | undefined;
  private job: Job | null = null;
  /** The warnings of the body in {@link JobLoop.job}. */
  private warnings: readonly SchemaWarning[] = [];
  private emitted: Snapshot | undefined;
  private firstSeen = 0;
  private lastChanged = 0;
  private trouble: SnapshotTrouble | undefined;
  private schemaFailures = 0;
  private observers: Subscriber<Snapshot>[] = [];
  /** The request in the budget, or the timer before the next one. */
  private pending: Ticket | Subscription | undefined;
  private graceTimer: Subscription | undefined;
  private started = false;
  private ended = false;
  /** The job's kind, once a body named one. */
  private kind: JobKind | undefined;
  /** Whether the job was seen before it ended: only then does its duration teach the model. */
  private sawRunning = false;

  /** The key the registry holds this loop under: the job id, or a reference's key. */
  readonly key: string;
  private readonly source: JobSource;

  constructor(
    readonly jobid: string,
    private readonly ctx: LoopShared,
    private readonly of?: LoopSource,
  ) {
    this.key = of?.key ?? jobid;
    this.source = of?.ref.source ?? 'enterprise';
    if (of) this.fetch = of.fetch;
  }

  /** The status of a body in jobwatch's vocabulary, as its source means it. */
  private statusOf(job: Job): string {
    return sourceStatus(this.source, job);
  }

  /** Adds a subscriber; starts polling on the first. */
  add(subscriber: Subscriber<Snapshot>): void {
    if (this.ended) {
      subscriber.complete();
      return;
    }
    this.graceTimer?.unsubscribe();
    this.graceTimer = undefined;
    this.observers.push(subscriber);
    if (this.emitted) subscriber.next(this.emitted);
    if (!this.started) {
      this.started = true;
      this.firstSeen = this.lastChanged = this.ctx.now();
      this.poll();
    }
  }

  /** Removes a subscriber; the last one out starts the grace. */
  remove(subscriber: Subscriber<Snapshot>): void {
    const i = this.observers.indexOf(subscriber);
    if (i >= 0) this.observers.splice(i, 1);
    if (this.observers.length > 0 || this.ended || this.graceTimer) return;
    if (this.ctx.grace <= 0) this.stop();
    else this.graceTimer = this.ctx.scheduler.schedule(graceOver, this.ctx.grace, this);
  }

  /** Stops the loop and completes its subscribers (the watcher is closing). */
  close(): void {
    const observers = this.stop();
    for (const o of observers) o.complete();
  }

  /** Stops polling for good and hands back the subscribers still there. */
  stop(): Subscriber<Snapshot>[] {
    if (this.ended) return [];
    this.ended = true;
    const pending = this.pending;
    this.pending = undefined;
    if (pending instanceof Ticket) this.ctx.budget.cancel(pending);
    else pending?.unsubscribe();
    this.graceTimer?.unsubscribe();
    this.graceTimer = undefined;
    const observers = this.observers;
    this.observers = [];
    this.ctx.onEnd(this);
    return observers;
  }

  /** @internal Starts one request. */
  poll(): void {
    if (this.ended) return;
    const ticket = this.ctx.budget.request(this.ctx.now(), this.fetch, this.settle);
    // An answer that came synchronously has already set what is pending next.
    if (ticket.open) this.pending = ticket;
  }

  private readonly fetch: (signal: AbortSignal) => PromiseLike<JobRead> = (signal) =>
    this.ctx.fetchJob(this.jobid, signal);

  private readonly settle = (ok: boolean, value: unknown): void => {
    this.pending = undefined;
    if (this.ended) return;
    const step = ok ? this.onJob(value as JobRead) : this.onError(value);
    if (step.emit) {
      const observers = this.observers.length === 1 ? this.observers : this.observers.slice();
      for (const o of observers) o.next(step.emit);
    }
    if (this.ended) return;
    if (step.error || step.next === undefined) {
      const observers = this.stop();
      const error = step.error;
      for (const o of observers) {
        if (error) o.error(error);
        else o.complete();
      }
      return;
    }
    this.pending = scheduleAfter(this.ctx.scheduler, pollAgain, step.next, this);
  };

  private onJob(read: JobRead): Step {
    const ctx = this.ctx;
    const now = ctx.now();
    const { job } = read;
    this.schemaFailures = 0;
    const status = this.statusOf(job);
    if (status === JobStatus.UNAVAILABLE) {
      // "The status cannot be had right now": keep the last known body, mark it stale.
      return this.troubled(now, {
        code: 'UNAVAILABLE',
        message: 'The server reports the job status as UNAVAILABLE for now',
        retryAfterMs: undefined,
        fallback: read,
      });
    }
    const prev = this.job;
    if (
      !prev ||
      prev.status !== job.status ||
      prev.updatedtime !== job.updatedtime ||
      prev.endtime !== job.endtime ||
      (this.source !== 'enterprise' &&
        sourceProgress(this.source, prev) !== sourceProgress(this.source, job))
    ) {
      this.lastChanged = now;
    }
    this.job = job;
    this.warnings = read.warnings;
    this.trouble = undefined;
    const snapshot = this.build(now, false);
    const kind = statusKind(status);
    if (kind === 'unknown' && prev?.status !== job.status) this.reportUnknown(job.status);
    if (kind === 'terminal') {
      this.learn(job);
      return { emit: snapshot, next: undefined, error: undefined };
    }
    this.sawRunning = true;
    const emit = this.emitIfVisible(snapshot);
    if (kind === 'unknown' && ctx.unknownStatus !== 'watch') {
      const error =
        ctx.unknownStatus === 'error'
          ? new UnknownStatusError({ jobid: this.jobid, status: job.status })
          : undefined;
      return { emit: snapshot, next: undefined, error };
    }
    const age = Math.max(now - this.firstSeen, serverAge(job));
    const estimate = this.estimate(job);
    const next = estimate
      ? learnedPollDelay(ctx.pacing, estimate, age, now - this.lastChanged)
      : nextPollDelay(ctx.pacing, age, now - this.lastChanged);
    return { emit, next, error: undefined };
  }

  /**
   * What the model knows of this job's kind, while the job is SUBMITTED or EXECUTING (its
   * kind's durations say nothing about a job being cancelled or in an unknown state).
   */
  private estimate(job: Job): DurationEstimate | undefined {
    const model = this.ctx.model;
    if (!model) return undefined;
    const status = this.statusOf(job);
    if (status !== JobStatus.SUBMITTED && status !== JobStatus.EXECUTING) return undefined;
    this.kind ??= this.ctx.kindOf(job);
    return this.kind ? model.estimate(this.kind) : undefined;
  }

  /**
   * Teaches the model this job's duration, by the server's own clock: only a job that
   * ended COMPLETED (a failure can come at any time and says nothing of how long the work
   * takes), that was seen running (so a finished job watched again is not counted twice)
   * and whose start and end times are set.
   */
  private learn(job: Job): void {
    const model = this.ctx.model;
    if (!model || !this.sawRunning || jobOutcome(this.statusOf(job)) !== 'succeeded') return;
    this.kind ??= this.ctx.kindOf(job);
    const { starttime, endtime } = job;
    if (typeof starttime !== 'number' || typeof endtime !== 'number') return;
    const duration = endtime - starttime;
    if (!this.kind || !(starttime > 0) || !(duration >= 0) || !Number.isFinite(duration)) {
      return;
    }
    model.observe(this.kind, duration);
  }

  private onError(thrown: unknown): Step {
    const error = toJobwatchError(thrown);
    const now = this.ctx.now();
    if (error.code === ErrorCode.SCHEMA) {
      this.schemaFailures++;
      if (this.schemaFailures >= this.ctx.maxSchemaFailures) return fatal(error);
    } else if (!error.retryable) {
      return fatal(error);
    }
    return this.troubled(now, {
      code: error.code,
      message: error.message,
      retryAfterMs: retryAfterOf(error),
      fallback: null,
    });
  }

  /** Tells the watcher's listener of an unknown status; a listener that throws changes nothing. */
  private reportUnknown(status: string): void {
    const listener = this.ctx.onUnknownStatus;
    if (!listener) return;
    try {
      listener({
        deployment: this.ctx.deployment,
        jobid: this.jobid,
        status,
        policy: this.ctx.unknownStatus,
      });
    } catch {
      // Reporting never costs a watch.
    }
  }

  private troubled(
    now: number,
    t: {
      code: string;
      message: string;
      retryAfterMs: number | undefined;
      fallback: JobRead | null;
    },
  ): Step {
    const attempts = (this.trouble?.attempts ?? 0) + 1;
    this.trouble = {
      code: t.code,
      message: t.message,
      since: this.trouble?.since ?? now,
      attempts,
    };
    if (!this.job && t.fallback) {
      this.job = t.fallback.job;
      this.warnings = t.fallback.warnings;
      this.lastChanged = now;
    }
    const snapshot = this.build(now, true);
    return {
      emit: this.emitIfVisible(snapshot),
      next: troubleDelay(this.ctx.pacing, attempts, t.retryAfterMs),
      error: undefined,
    };
  }

  private build(now: number, stale: boolean): Snapshot {
    const job = this.job;
    const estimate = job ? this.estimate(job) : undefined;
    const eta =
      job && estimate
        ? makeEta(estimate, Math.max(now - this.firstSeen, serverAge(job)), now)
        : undefined;
    const snapshot = makeSnapshot({
      deployment: this.ctx.deployment,
      jobid: this.jobid,
      job: this.job,
      firstSeen: this.firstSeen,
      lastPolled: now,
      lastChanged: this.lastChanged,
      stale,
      trouble: stale ? this.trouble : undefined,
      warnings: this.warnings,
      eta,
      ref: this.of?.ref,
    });
    this.latest = snapshot;
    return snapshot;
  }

  private emitIfVisible(snapshot: Snapshot): Snapshot | undefined {
    if (!visiblyDiffers(this.emitted, snapshot) && !etaTurned(this.emitted, snapshot)) {
      return undefined;
    }
    this.emitted = snapshot;
    return snapshot;
  }
}

/**
 * Whether an estimate appeared, went, or turned overdue: worth a snapshot of its own, since
 * a reader counts down from the last one and cannot tell otherwise.
 */
function etaTurned(a: Snapshot | undefined, b: Snapshot): boolean {
  return (a?.eta === undefined) !== (b.eta === undefined) || a?.eta?.overdue !== b.eta?.overdue;
}

/** How long the job has run by the server's clock; 0 when its times are missing. */
function serverAge(job: Job): number {
  const { starttime, updatedtime } = job;
  return typeof starttime === 'number' && typeof updatedtime === 'number'
    ? updatedtime - starttime
    : 0;
}

const fatal = (error: JobwatchError): Step => ({ emit: undefined, next: undefined, error });

function retryAfterOf(error: JobwatchError): number | undefined {
  const value = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function pollAgain(loop?: JobLoop): void {
  loop?.poll();
}

function graceOver(this: SchedulerAction<JobLoop>, loop?: JobLoop): void {
  loop?.stop();
}
