/**
 * A fake AdminClient for marble tests: every answer arrives on the TestScheduler after a
 * latency, through a thenable that settles synchronously inside the scheduler's flush, so
 * the whole watcher runs in virtual time.
 */
import type { AdminClient } from '@jobwatch/client';
import type { Job, JobId } from '@jobwatch/schema';
import type { SchedulerLike } from 'rxjs';

/** What the fake server answers for one job at a given virtual time. */
export type Script = (time: number, call: number) => Job | Error;

export interface Call {
  readonly jobid: string;
  readonly start: number;
  end: number | undefined;
  aborted: boolean;
}

export function job(jobid: string, status: string, updatedtime = 0, extra: Partial<Job> = {}): Job {
  return {
    jobid,
    status,
    starttime: 0,
    endtime: ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED OUT'].includes(status) ? updatedtime : 0,
    updatedtime,
    operationURI: '/arcgis/admin/services/Roads.MapServer/edit',
    username: 'admin',
    ...extra,
  };
}

/**
 * A job that passes through `steps` (`[atMs, status]`, the first at 0): the status at the
 * time the request reaches the server, with `updatedtime` = the step's time.
 */
export function timeline(jobid: string, steps: ReadonlyArray<readonly [number, string]>): Script {
  return (time) => {
    let current = steps[0]!;
    for (const step of steps) if (step[0] <= time) current = step;
    return job(jobid, current[1], current[0]);
  };
}

export class FakeServer {
  readonly calls: Call[] = [];
  readonly scripts = new Map<string, Script>();
  listScript: (time: number, call: number) => string[] | Error = () => [...this.scripts.keys()];
  readonly listCalls: number[] = [];
  /** Most requests for one job in flight at once, ever. */
  maxInFlightPerJob = 0;
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly scheduler: SchedulerLike,
    public latency = 0,
  ) {}

  callsFor(jobid: string): Call[] {
    return this.calls.filter((c) => c.jobid === jobid);
  }

  private answer<T>(
    signal: AbortSignal | undefined,
    produce: () => T | Error,
    onEnd: () => void,
  ): PromiseLike<T> {
    const scheduler = this.scheduler;
    const latency = this.latency;
    return {
      // biome-ignore lint/suspicious/noThenProperty: a deliberate synchronous thenable
      then(onOk, onErr) {
        const action = scheduler.schedule(() => {
          onEnd();
          const value = produce();
          if (value instanceof Error) onErr?.(value);
          else onOk?.(value);
        }, latency);
        signal?.addEventListener('abort', () => {
          action.unsubscribe();
          onEnd();
        });
        return undefined as never;
      },
    };
  }

  readonly client = {
    url: 'http://fake/arcgis/admin',
    getJob: (jobid: string, options?: { signal?: AbortSignal }) => {
      const call: Call = { jobid, start: this.scheduler.now(), end: undefined, aborted: false };
      const n = this.calls.push(call);
      const running = (this.inFlight.get(jobid) ?? 0) + 1;
      this.inFlight.set(jobid, running);
      this.maxInFlightPerJob = Math.max(this.maxInFlightPerJob, running);
      let ended = false;
      const onEnd = () => {
        if (ended) return;
        ended = true;
        call.end = this.scheduler.now();
        call.aborted = options?.signal?.aborted ?? false;
        this.inFlight.set(jobid, (this.inFlight.get(jobid) ?? 1) - 1);
      };
      return this.answer(
        options?.signal,
        () => {
          const script = this.scripts.get(jobid);
          if (!script) return new Error(`no script for ${jobid}`);
          return script(this.scheduler.now(), n);
        },
        onEnd,
      );
    },
    listJobs: (options?: { signal?: AbortSignal }) => {
      this.listCalls.push(this.scheduler.now());
      const n = this.listCalls.length;
      return this.answer(
        options?.signal,
        () => this.listScript(this.scheduler.now(), n) as JobId[] | Error,
        () => {},
      );
    },
  } as unknown as AdminClient;
}
