import { ConfigError } from '@jobwatch/client';
import { Observable, type SchedulerLike, type Subscription } from 'rxjs';

/** Limits on the requests of one deployment. */
export interface BudgetOptions {
  /** Requests in flight at once. @default 8 */
  readonly concurrency?: number;
  /** Requests started per second (token bucket); `Infinity` for no limit. @default 20 */
  readonly rate?: number;
  /** Requests that may start at once after a quiet spell. @default the rate, at least 1 */
  readonly burst?: number;
}

/** The budget defaults. */
export const DEFAULT_BUDGET = Object.freeze({ concurrency: 8, rate: 20 });

/** What a {@link RequestBudget} reports about itself. */
export interface BudgetStats {
  /** Requests running now. */
  readonly active: number;
  /** Requests waiting for a slot. */
  readonly queued: number;
  /** Requests started since the budget was made. */
  readonly started: number;
}

const QUEUED = 0;
const RUNNING = 1;
const DONE = 2;

type Work = (signal: AbortSignal) => PromiseLike<unknown>;

/** One request in a budget's queue. @internal */
export class Ticket {
  state = QUEUED;
  controller: AbortController | undefined;
  /** Whether it still waits or runs. */
  get open(): boolean {
    return this.state !== DONE;
  }
  constructor(
    readonly due: number,
    readonly seq: number,
    readonly work: Work,
    readonly settle: (ok: boolean, value: unknown) => void,
  ) {}
}

/** A binary min-heap of tickets ordered by due time, then arrival. */
class TicketHeap {
  private readonly items: Ticket[] = [];
  get size(): number {
    return this.items.length;
  }
  push(t: Ticket): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  /** Tickets still waiting (cancelled ones linger until they reach the top). */
  countQueued(): number {
    let n = 0;
    for (const t of this.items) if (t.state === QUEUED) n++;
    return n;
  }
  peek(): Ticket | undefined {
    return this.items[0];
  }
  pop(): Ticket | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: Ticket, b: Ticket) => a.due < b.due || (a.due === b.due && a.seq < b.seq);

/**
 * One request budget: at most `concurrency` requests in flight and `rate` starts per
 * second, handed out earliest-due first, so that under overload every job's lag grows by
 * the same amount and none starves. Every request of a watcher goes through its budget.
 *
 * Time comes from the given scheduler, so the budget runs under `TestScheduler`.
 */
export class RequestBudget {
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Starts per second. */
  readonly rate: number;
  /** Bucket size. */
  readonly burst: number;
  private readonly scheduler: SchedulerLike;
  private readonly heap = new TicketHeap();
  private tokens: number;
  private refilledAt: number;
  private active = 0;
  private started = 0;
  private seq = 0;
  private wake: Subscription | undefined;
  private resume: Subscription | undefined;

  constructor(options: BudgetOptions, scheduler: SchedulerLike) {
    this.concurrency = options.concurrency ?? DEFAULT_BUDGET.concurrency;
    this.rate = options.rate ?? DEFAULT_BUDGET.rate;
    this.burst = options.burst ?? Math.max(1, Number.isFinite(this.rate) ? this.rate : 1);
    if (!(Number.isInteger(this.concurrency) && this.concurrency >= 1)) {
      throw new ConfigError(
        `budget.concurrency must be an integer ≥ 1, got ${String(this.concurrency)}`,
      );
    }
    if (!(this.rate > 0))
      throw new ConfigError(`budget.rate must be > 0, got ${String(this.rate)}`);
    if (!(this.burst >= 1))
      throw new ConfigError(`budget.burst must be ≥ 1, got ${String(this.burst)}`);
    this.scheduler = scheduler;
    this.tokens = this.burst;
    this.refilledAt = scheduler.now();
  }

  /** Requests running, waiting and started so far. */
  stats(): BudgetStats {
    return { active: this.active, queued: this.heap.countQueued(), started: this.started };
  }

  /**
   * Runs `work` when the budget allows, as an Observable that emits its result and
   * completes. `due` (epoch ms on the budget's scheduler) orders waiting requests.
   * Unsubscribing before the start leaves the queue; after it, aborts `work`'s signal and
   * frees the slot at once.
   *
   * `work` may return any thenable; one that settles synchronously keeps everything
   * synchronous (which marble tests rely on).
   */
  run<T>(due: number, work: (signal: AbortSignal) => PromiseLike<T>): Observable<T> {
    return new Observable<T>((subscriber) => {
      const ticket = this.request(due, work, (ok, value) => {
        if (ok) {
          subscriber.next(value as T);
          subscriber.complete();
        } else {
          subscriber.error(value);
        }
      });
      return () => this.cancel(ticket);
    });
  }

  /**
   * The allocation-light form of {@link RequestBudget.run} that poll loops use: queues
   * `work`, calls `settle(true, value)` or `settle(false, error)` once, unless cancelled
   * first with {@link RequestBudget.cancel}.
   * @internal
   */
  request<T>(
    due: number,
    work: (signal: AbortSignal) => PromiseLike<T>,
    settle: (ok: boolean, value: unknown) => void,
  ): Ticket {
    const ticket = new Ticket(due, this.seq++, work as Work, settle);
    this.heap.push(ticket);
    this.pump();
    return ticket;
  }

  /** Withdraws a waiting request, or aborts a running one and frees its slot. @internal */
  cancel(ticket: Ticket): void {
    if (ticket.state === QUEUED) {
      ticket.state = DONE;
    } else if (ticket.state === RUNNING) {
      ticket.controller?.abort();
      this.release(ticket);
    }
  }

  private release(ticket: Ticket): void {
    if (ticket.state !== RUNNING) return;
    ticket.state = DONE;
    this.active--;
    if (this.heap.size > 0) this.resumeSoon();
  }

  /**
   * Hands freed slots to waiting requests on the scheduler's next turn, not inside the
   * settling answer: Node's fetch returns a connection to its pool only after the body's
   * promise has resolved, so a request sent at once finds every connection busy and opens
   * another (new connections, then idle ones closing, over and over, each a TCP and TLS
   * handshake with the server).
   */
  private resumeSoon(): void {
    if (this.resume) return;
    this.resume = this.scheduler.schedule(() => {
      this.resume = undefined;
      this.pump();
    }, 0);
  }

  private start(ticket: Ticket): void {
    ticket.state = RUNNING;
    this.active++;
    this.started++;
    const controller = new AbortController();
    ticket.controller = controller;
    let pending: PromiseLike<unknown>;
    try {
      pending = ticket.work(controller.signal);
    } catch (error) {
      this.release(ticket);
      ticket.settle(false, error);
      return;
    }
    pending.then(
      (value) => {
        if (ticket.state !== RUNNING) return;
        this.release(ticket);
        ticket.settle(true, value);
      },
      (error: unknown) => {
        if (ticket.state !== RUNNING) return;
        this.release(ticket);
        ticket.settle(false, error);
      },
    );
  }

  private refill(): void {
    const now = this.scheduler.now();
    if (!Number.isFinite(this.rate)) {
      this.tokens = this.burst;
    } else if (now > this.refilledAt) {
      this.tokens = Math.min(
        this.burst,
        this.tokens + ((now - this.refilledAt) * this.rate) / 1000,
      );
    }
    this.refilledAt = now;
  }

  private pump(): void {
    while (this.active < this.concurrency) {
      let next = this.heap.peek();
      while (next && next.state !== QUEUED) {
        this.heap.pop();
        next = this.heap.peek();
      }
      if (!next) return;
      this.refill();
      if (this.tokens < 1) {
        if (!this.wake) {
          const wait = Math.ceil(((1 - this.tokens) * 1000) / this.rate);
          this.wake = this.scheduler.schedule(() => {
            this.wake = undefined;
            this.pump();
          }, wait);
        }
        return;
      }
      this.tokens -= 1;
      this.heap.pop();
      this.start(next);
    }
  }
}
