import { ConfigError } from '@jobwatch/client';
import { firstValueFrom, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { RequestBudget } from '../src/index.js';

const newScheduler = () => new TestScheduler((a, b) => expect(a).toEqual(b));

/** A task that takes `ms` of virtual time and records when it started. */
function task(
  scheduler: TestScheduler,
  ms: number,
  log: number[],
  name?: string,
  names?: string[],
) {
  return (signal: AbortSignal): PromiseLike<number> => ({
    // biome-ignore lint/suspicious/noThenProperty: synchronous thenable on the virtual clock
    then(ok) {
      log.push(scheduler.now());
      if (name !== undefined) names?.push(name);
      const action = scheduler.schedule(() => ok?.(scheduler.now()), ms);
      signal.addEventListener('abort', () => action.unsubscribe());
      return undefined as never;
    },
  });
}

describe('RequestBudget', () => {
  it('runs at most `concurrency` requests at once', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const budget = new RequestBudget({ concurrency: 2, rate: Infinity }, scheduler);
      const starts: number[] = [];
      for (let i = 0; i < 5; i++) budget.run(0, task(scheduler, 100, starts)).subscribe();
      expect(budget.stats()).toEqual({ active: 2, queued: 3, started: 2 });
      scheduler.flush();
      expect(starts).toEqual([0, 0, 100, 100, 200]);
    });
  });

  it('starts at most `rate` requests per second', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const budget = new RequestBudget({ concurrency: 100, rate: 10, burst: 1 }, scheduler);
      const starts: number[] = [];
      for (let i = 0; i < 4; i++) budget.run(0, task(scheduler, 1, starts)).subscribe();
      scheduler.flush();
      expect(starts).toEqual([0, 100, 200, 300]);
    });
  });

  it('lets a burst through after a quiet spell, then keeps the rate', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const budget = new RequestBudget({ concurrency: 100, rate: 4 }, scheduler);
      const starts: number[] = [];
      for (let i = 0; i < 6; i++) budget.run(0, task(scheduler, 1, starts)).subscribe();
      scheduler.flush();
      expect(starts).toEqual([0, 0, 0, 0, 250, 500]);
    });
  });

  it('serves the earliest due request first, whatever the order of arrival', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const budget = new RequestBudget({ concurrency: 1, rate: Infinity }, scheduler);
      const starts: number[] = [];
      const order: string[] = [];
      budget.run(0, task(scheduler, 10, starts, 'first', order)).subscribe();
      budget.run(30, task(scheduler, 10, starts, 'late', order)).subscribe();
      budget.run(5, task(scheduler, 10, starts, 'early', order)).subscribe();
      budget.run(5, task(scheduler, 10, starts, 'early-2', order)).subscribe();
      scheduler.flush();
      expect(order).toEqual(['first', 'early', 'early-2', 'late']);
    });
  });

  it('drops a waiting request that is unsubscribed, and frees the slot of a running one', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const budget = new RequestBudget({ concurrency: 1, rate: Infinity }, scheduler);
      const starts: number[] = [];
      const running = budget.run(0, task(scheduler, 1000, starts)).subscribe();
      const waiting = budget.run(0, task(scheduler, 10, starts)).subscribe();
      const third: number[] = [];
      budget.run(0, task(scheduler, 10, starts)).subscribe((v) => third.push(v));
      waiting.unsubscribe();
      scheduler.schedule(() => running.unsubscribe(), 50);
      scheduler.flush();
      expect(starts).toEqual([0, 50]);
      expect(third).toEqual([60]);
      expect(budget.stats()).toEqual({ active: 0, queued: 0, started: 2 });
    });
  });

  it("hands a freed slot to a waiting request on the scheduler's next turn, not inside the answer", () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const budget = new RequestBudget({ concurrency: 1, rate: Infinity }, scheduler);
      const starts: number[] = [];
      // Inside the first answer, the second request has not started yet: a fetch connection
      // is back in its pool only after that answer's promise has resolved.
      const startedWhenAnswered: number[] = [];
      budget
        .run(0, task(scheduler, 100, starts))
        .subscribe(() => startedWhenAnswered.push(starts.length));
      budget.run(0, task(scheduler, 100, starts)).subscribe();
      scheduler.flush();
      expect(startedWhenAnswered).toEqual([1]);
      // Same virtual time, so pacing and fairness are unchanged.
      expect(starts).toEqual([0, 100]);
    });
  });

  it('passes a failure through and frees the slot', async () => {
    const scheduler = newScheduler();
    const budget = new RequestBudget({ concurrency: 1 }, scheduler);
    const failing: Observable<never> = budget.run(0, () => Promise.reject(new Error('boom')));
    await expect(firstValueFrom(failing)).rejects.toThrow('boom');
    await expect(firstValueFrom(budget.run(0, () => Promise.resolve(7)))).resolves.toBe(7);
  });

  it.each([
    ['zero concurrency', { concurrency: 0 }],
    ['fractional concurrency', { concurrency: 1.5 }],
    ['zero rate', { rate: 0 }],
    ['burst below one', { burst: 0.5 }],
  ])('refuses %s', (_name, options) => {
    expect(() => new RequestBudget(options, newScheduler())).toThrow(ConfigError);
  });
});
