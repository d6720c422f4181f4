/** A job of any source the store can keep: an id and when it ends. */
export interface TimedJob {
  readonly id: string;
  /** Epoch ms of the end (it may move, for example when a job is cancelled). */
  readonly endsAt: number;
}

/**
 * Jobs of one source, with lazy purging after retention (the same rule as the admin jobs':
 * a finished job stays readable for `retentionMs`, then it is gone).
 */
export class TimedStore<T extends TimedJob> {
  readonly #jobs = new Map<string, T>();
  #swept = Number.NEGATIVE_INFINITY;

  constructor(readonly retentionMs: number) {}

  /** Number of jobs held. */
  get size(): number {
    return this.#jobs.size;
  }

  /** Whether an id is taken. */
  has(id: string): boolean {
    return this.#jobs.has(id);
  }

  /** Adds a job. */
  add(job: T): void {
    this.#jobs.set(job.id, job);
  }

  #expired(job: T, now: number): boolean {
    return job.endsAt + this.retentionMs <= now;
  }

  /** The job, unless unknown or purged. */
  get(id: string, now: number): T | undefined {
    const job = this.#jobs.get(id);
    if (job && this.#expired(job, now)) {
      this.#jobs.delete(id);
      return undefined;
    }
    return job;
  }

  /** Every job not yet purged, oldest first. */
  list(now: number): T[] {
    const out: T[] = [];
    for (const [id, job] of this.#jobs) {
      if (this.#expired(job, now)) this.#jobs.delete(id);
      else out.push(job);
    }
    return out;
  }

  /** Drops every job past its retention, at most once a simulated minute. */
  sweep(now: number): void {
    if (now - this.#swept < 60_000) return;
    this.#swept = now;
    for (const [id, job] of this.#jobs) if (this.#expired(job, now)) this.#jobs.delete(id);
  }

  /** Purges a job now; whether it existed. */
  purge(id: string): boolean {
    return this.#jobs.delete(id);
  }
}
