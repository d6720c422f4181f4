import { ErrorCode, type JobwatchError, toJobwatchError } from '@jobwatch/client';
import {
  type Job,
  JobStatus,
  makeSnapshot,
  type Snapshot,
  type SnapshotTrouble,
  statusKind,
  visiblyDiffers,
} from '@jobwatch/schema';
import {
  concat,
  defer,
  EMPTY,
  expand,
  mergeMap,
  Observable,
  of,
  type SchedulerLike,
  throwError,
  timer,
} from 'rxjs';
import type { RequestBudget } from './budget.js';
import { UnknownStatusError } from './errors.js';
import { nextPollDelay, type ResolvedPacing, troubleDelay } from './pacing.js';

/**
 * What to do with a status jobwatch does not know (a newer server may add some):
 * - `'watch'` (default): keep watching, and show it (`kind: 'unknown'` on the snapshot);
 * - `'error'`: emit the snapshot, then end the stream with an {@link UnknownStatusError};
 * - `'complete'`: emit the snapshot, then complete as if the job had ended.
 */
export type UnknownStatusPolicy = 'watch' | 'error' | 'complete';

/** Everything one poll loop needs; built by the watcher. @internal */
export interface LoopContext {
  readonly deployment: string;
  readonly jobid: string;
  readonly fetchJob: (signal: AbortSignal) => PromiseLike<Job>;
  readonly budget: RequestBudget;
  readonly scheduler: SchedulerLike;
  readonly now: () => number;
  readonly pacing: ResolvedPacing;
  readonly unknownStatus: UnknownStatusPolicy;
  readonly maxSchemaFailures: number;
  /** Told about every snapshot built, emitted or not (for `current()`). */
  readonly onSnapshot: (snapshot: Snapshot) => void;
}

/** The outcome of one poll: what to emit, when to poll next (none: done), or why to stop. */
interface Step {
  readonly emit: Snapshot | undefined;
  readonly next: number | undefined;
  readonly error: JobwatchError | undefined;
}

/** The state of one job between polls. */
class JobTracker {
  private job: Job | null = null;
  private emitted: Snapshot | undefined;
  private readonly firstSeen: number;
  private lastChanged: number;
  private trouble: SnapshotTrouble | undefined;
  private schemaFailures = 0;

  constructor(private readonly ctx: LoopContext) {
    this.firstSeen = ctx.now();
    this.lastChanged = this.firstSeen;
  }

  onJob(job: Job): Step {
    const ctx = this.ctx;
    const now = ctx.now();
    this.schemaFailures = 0;
    if (job.status === JobStatus.UNAVAILABLE) {
      // "The status cannot be had right now": keep the last known body, mark it stale.
      return this.troubled(now, {
        code: 'UNAVAILABLE',
        message: 'The server reports the job status as UNAVAILABLE for now',
        retryAfterMs: undefined,
        fallback: job,
      });
    }
    const prev = this.job;
    if (
      !prev ||
      prev.status !== job.status ||
      prev.updatedtime !== job.updatedtime ||
      prev.endtime !== job.endtime
    ) {
      this.lastChanged = now;
    }
    this.job = job;
    this.trouble = undefined;
    const snapshot = this.build(now, false);
    const kind = statusKind(job.status);
    if (kind === 'terminal') return { emit: snapshot, next: undefined, error: undefined };
    const emit = this.emitIfVisible(snapshot);
    if (kind === 'unknown' && ctx.unknownStatus !== 'watch') {
      const error =
        ctx.unknownStatus === 'error'
          ? new UnknownStatusError({ jobid: ctx.jobid, status: job.status })
          : undefined;
      return { emit: snapshot, next: undefined, error };
    }
    const age = Math.max(now - this.firstSeen, job.updatedtime - job.starttime);
    return { emit, next: nextPollDelay(ctx.pacing, age, now - this.lastChanged), error: undefined };
  }

  onError(thrown: unknown): Step {
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

  private troubled(
    now: number,
    t: { code: string; message: string; retryAfterMs: number | undefined; fallback: Job | null },
  ): Step {
    const attempts = (this.trouble?.attempts ?? 0) + 1;
    this.trouble = {
      code: t.code,
      message: t.message,
      since: this.trouble?.since ?? now,
      attempts,
    };
    if (!this.job && t.fallback) {
      this.job = t.fallback;
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
    const snapshot = makeSnapshot({
      deployment: this.ctx.deployment,
      jobid: this.ctx.jobid,
      job: this.job,
      firstSeen: this.firstSeen,
      lastPolled: now,
      lastChanged: this.lastChanged,
      stale,
      trouble: stale ? this.trouble : undefined,
    });
    this.ctx.onSnapshot(snapshot);
    return snapshot;
  }

  private emitIfVisible(snapshot: Snapshot): Snapshot | undefined {
    if (!visiblyDiffers(this.emitted, snapshot)) return undefined;
    this.emitted = snapshot;
    return snapshot;
  }
}

const fatal = (error: JobwatchError): Step => ({ emit: undefined, next: undefined, error });

function retryAfterOf(error: JobwatchError): number | undefined {
  const value = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

const toOutput = (step: Step): Observable<Snapshot> => {
  if (step.error) {
    const error = step.error;
    return step.emit
      ? concat(
          of(step.emit),
          throwError(() => error),
        )
      : throwError(() => error);
  }
  return step.emit ? of(step.emit) : EMPTY;
};

/**
 * One job's poll loop, cold: polls at once, then again only after each answer, after a
 * paced wait; every request goes through the budget. Emits visible changes, always the
 * terminal snapshot, then completes; ends with a typed error only on fatal trouble.
 * @internal
 */
export function pollJob(ctx: LoopContext): Observable<Snapshot> {
  return defer(() => {
    const tracker = new JobTracker(ctx);
    const attempt = (due: number): Observable<Step> =>
      new Observable<Step>((subscriber) =>
        ctx.budget.run(due, ctx.fetchJob).subscribe({
          next: (job) => subscriber.next(tracker.onJob(job)),
          error: (error: unknown) => {
            subscriber.next(tracker.onError(error));
            subscriber.complete();
          },
          complete: () => subscriber.complete(),
        }),
      );
    const poll = (delay: number): Observable<Step> =>
      timer(delay, ctx.scheduler).pipe(mergeMap(() => attempt(ctx.now())));
    return attempt(ctx.now()).pipe(
      expand((step) => (step.next === undefined ? EMPTY : poll(step.next))),
      mergeMap(toOutput),
    );
  });
}
