/**
 * Timers for any length. JavaScript timers take at most 2³¹ − 1 ms (about 24.8 days): Node
 * and browsers fire a longer one after 1 ms. Every wait of jobwatch whose length a person can
 * choose (`maxWait`, `maxUnreachable`, list intervals, pacing) goes through here.
 */
import {
  asyncScheduler,
  Observable,
  type SchedulerAction,
  type SchedulerLike,
  Subscription,
} from 'rxjs';

/** The longest delay a timer takes as it is: 2³¹ − 1 ms, about 24.8 days. */
export const MAX_TIMER_DELAY = 2_147_483_647;

interface Chain<T> {
  readonly work: (state: T) => void;
  readonly state: T;
  /** What is left to wait after the step now scheduled. */
  left: number;
}

function chainStep<T>(this: SchedulerAction<Chain<T>>, chain?: Chain<T>): void {
  if (!chain) return;
  if (chain.left > 0) {
    const step = Math.min(chain.left, MAX_TIMER_DELAY);
    chain.left -= step;
    this.schedule(chain, step);
    return;
  }
  chain.work(chain.state);
}

/**
 * Runs `work(state)` once, `delay` ms from now on `scheduler`, for any delay: beyond
 * {@link MAX_TIMER_DELAY} the wait is chained in steps no longer than that. `Infinity` never
 * runs. Up to {@link MAX_TIMER_DELAY} it is exactly `scheduler.schedule(work, delay, state)`,
 * so the common case costs nothing more.
 *
 * Gotcha: `work` runs once; do not reschedule from it through `this`.
 *
 * @returns the subscription that cancels the wait.
 */
export function scheduleAfter<T>(
  scheduler: SchedulerLike,
  work: (state: T) => void,
  delay: number,
  state: T,
): Subscription {
  if (!(delay > MAX_TIMER_DELAY)) {
    return scheduler.schedule(work as (this: SchedulerAction<T>, state?: T) => void, delay, state);
  }
  if (delay === Number.POSITIVE_INFINITY) return new Subscription();
  const chain: Chain<T> = { work, state, left: delay - MAX_TIMER_DELAY };
  return scheduler.schedule(chainStep<T>, MAX_TIMER_DELAY, chain);
}

/**
 * Emits `0` once after `delay` ms, then completes: RxJS's `timer(delay, scheduler)` for any
 * length (see {@link scheduleAfter}).
 *
 * @example
 * ```ts
 * longTimer(30 * 86_400_000).subscribe(() => console.log('thirty days later'));
 * ```
 */
export function longTimer(delay: number, scheduler: SchedulerLike = asyncScheduler): Observable<0> {
  return new Observable<0>((subscriber) =>
    scheduleAfter(
      scheduler,
      () => {
        subscriber.next(0);
        subscriber.complete();
      },
      delay,
      undefined,
    ),
  );
}
