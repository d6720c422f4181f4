/**
 * Whether a server answers at all. A 502 from a gateway, an error body or a job reported
 * `UNAVAILABLE` are answers; a refused connection, an unknown host, a reset or a timeout are
 * not. `maxUnreachable` of a watch is measured on this, once per watcher (one server).
 */
import { ErrorCode, type JobwatchError, toJobwatchError } from '@jobwatch/client';
import {
  BehaviorSubject,
  defer,
  distinctUntilChanged,
  mergeMap,
  NEVER,
  type Observable,
  type SchedulerLike,
  switchMap,
  throwError,
} from 'rxjs';
import { UnreachableError } from './errors.js';
import { longTimer } from './timers.js';

/** Transport failures in which nothing came back from the server. */
const SILENT_REASONS: ReadonlySet<string> = new Set(['connect', 'network', 'timeout']);

/**
 * Whether a request's failure means the server said nothing at all: a `TRANSPORT` error
 * whose reason is `connect` (refused, unknown host), `network` (reset, dropped) or
 * `timeout`. Any HTTP answer, even a 502, is an answer.
 */
export function isNoAnswer(error: unknown): boolean {
  const e = toJobwatchError(error);
  if (e.code !== ErrorCode.TRANSPORT) return false;
  const reason = (e as { reason?: unknown }).reason;
  return typeof reason === 'string' && SILENT_REASONS.has(reason);
}

/** What one watcher knows of its server's answers, fed by every request it makes. @internal */
export class ServerContact {
  /** Epoch ms of the last answer of any kind. */
  lastAnswer: number | undefined;
  /** The last failure without an answer. */
  lastFailure: JobwatchError | undefined;
  /** Whether the latest request that settled got no answer. */
  private readonly silent = new BehaviorSubject(false);

  constructor(private readonly now: () => number) {}

  /** Records an answer. */
  answered(): void {
    this.lastAnswer = this.now();
    if (this.silent.value) this.silent.next(false);
  }

  /** Records a failure: an answer when the server said something, silence otherwise. */
  failed(error: unknown): void {
    const e = toJobwatchError(error);
    if (e.code === ErrorCode.ABORTED) return; // we hung up: says nothing about the server
    if (!isNoAnswer(e)) {
      this.answered();
      return;
    }
    this.lastFailure = e;
    if (!this.silent.value) this.silent.next(true);
  }

  /** Wraps a request's thenable so that its outcome is recorded; synchronous thenables stay so. */
  observe<T>(request: PromiseLike<T>): PromiseLike<T> {
    return {
      // biome-ignore lint/suspicious/noThenProperty: a thenable that forwards to the request's
      then: (onOk, onErr) =>
        request.then(
          (value) => {
            this.answered();
            return onOk ? onOk(value) : (value as never);
          },
          (error: unknown) => {
            this.failed(error);
            if (onErr) return onErr(error);
            throw error;
          },
        ),
    };
  }

  /**
   * Errors with {@link UnreachableError} once requests have got no answer for
   * `maxUnreachable` ms, counted from the later of the last answer and the subscription;
   * never while answers come.
   */
  limit(jobid: string, maxUnreachable: number, scheduler: SchedulerLike): Observable<never> {
    return defer(() => {
      const start = this.now();
      return this.silent.pipe(
        distinctUntilChanged(),
        switchMap((silent) =>
          silent
            ? longTimer(
                Math.max(
                  0,
                  Math.max(this.lastAnswer ?? start, start) + maxUnreachable - this.now(),
                ),
                scheduler,
              )
            : NEVER,
        ),
        mergeMap(() =>
          throwError(
            () =>
              new UnreachableError({
                jobid,
                maxUnreachable,
                lastAnswer: this.lastAnswer,
                last: this.lastFailure,
              }),
          ),
        ),
      );
    });
  }
}
