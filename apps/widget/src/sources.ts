import { fromDaemon } from '@jobwatch/rx';
import type { Snapshot } from '@jobwatch/schema';
import { Observable, type Unsubscribable } from 'rxjs';
import type { SnapshotSource } from './controller.js';

/** Returns a short-lived ticket for the daemon's event stream. */
export type TicketProvider = () => Promise<string>;

/** Returns a token the page already holds; called again with `refresh: true` after the server refused one. */
export type TokenProvider = (context: {
  readonly refresh: boolean;
  readonly signal?: AbortSignal;
}) => Promise<string> | string;

/** Where an element's snapshots come from, and what it wants of them. */
export interface SourceRequest {
  /** One job; absent with `all`. */
  readonly jobid?: string | undefined;
  /** Every job the source knows (discovering new ones). */
  readonly all?: boolean;
  readonly daemon?: string | undefined;
  readonly ticketProvider?: TicketProvider | undefined;
  readonly adminUrl?: string | undefined;
  readonly tokenProvider?: TokenProvider | undefined;
  readonly source?: SnapshotSource | undefined;
  readonly deployment?: string | undefined;
}

/**
 * The source an element follows: the daemon's event stream when `daemon` is set, else
 * direct mode when `adminUrl` is set (once a `tokenProvider` is there too), else `source`.
 *
 * Direct mode keeps one watcher per admin URL, deployment and token provider, so widgets on
 * one page that show the same job share one poll loop and one request budget. Its code
 * (`direct.ts`: the admin client and the body validators) is loaded on first use; in the
 * single-file build that is `jobwatch-widget-direct.js`, beside `jobwatch-widget.js`.
 */
export function sourceFor(request: SourceRequest): SnapshotSource | undefined {
  try {
    return resolve(request);
  } catch (error) {
    // A bad URL or option: the element shows why instead of breaking.
    return failing(error);
  }
}

function resolve(request: SourceRequest): SnapshotSource | undefined {
  const { jobid } = request;
  if (request.daemon) {
    const daemon = request.daemon;
    const options = {
      ...(jobid ? { jobid } : {}),
      ...(request.deployment ? { deployment: request.deployment } : {}),
      ...(request.ticketProvider ? { ticket: request.ticketProvider } : {}),
    };
    return followDaemon(() => fromDaemon(daemon, options), jobid !== undefined);
  }
  if (request.adminUrl) {
    if (!request.tokenProvider) return undefined;
    const direct = {
      adminUrl: request.adminUrl,
      deployment: request.deployment ?? 'default',
      tokenProvider: request.tokenProvider,
      jobid,
    };
    return lazily(() => import('./direct.js').then((m) => m.watchDirect(direct)));
  }
  const { source } = request;
  if (!source) return undefined;
  return jobid ? onlyJob(source, jobid) : source;
}

/** How long after a daemon's `end` (it shut down) the stream is opened again, in ms. */
export const RESUME_AFTER_END_MS = 3000;

/**
 * Follows a daemon across its restarts. `fromDaemon` reconnects by itself while the daemon
 * is unreachable, but completes when the daemon says `end` (it is shutting down); a page
 * keeps showing jobs across a restart, so the stream is opened again (the daemon then
 * sends every current snapshot). A one-job stream that ended with its job stays ended.
 */
function followDaemon(open: () => Observable<Snapshot>, oneJob: boolean): Observable<Snapshot> {
  // Written out rather than `defer` + `repeat({ delay })`: the same behaviour, and 2 KB
  // (gzipped) of rxjs operators less in the single file.
  return new Observable<Snapshot>((subscriber) => {
    let jobEnded = false;
    let inner: Unsubscribable | undefined;
    let resume: ReturnType<typeof setTimeout> | undefined;
    const follow = () => {
      try {
        inner = open().subscribe({
          next: (snapshot) => {
            if (oneJob && snapshot.terminal) jobEnded = true;
            subscriber.next(snapshot);
          },
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            if (jobEnded) subscriber.complete();
            else resume = setTimeout(follow, RESUME_AFTER_END_MS);
          },
        });
      } catch (error) {
        subscriber.error(error);
      }
    };
    follow();
    return () => {
      clearTimeout(resume);
      inner?.unsubscribe();
    };
  });
}

/**
 * The snapshots of a source that takes a moment to load (direct mode's code): nothing is
 * loaded until the first subscription; a failed load is the stream's error.
 */
function lazily(load: () => Promise<Observable<Snapshot>>): Observable<Snapshot> {
  return new Observable<Snapshot>((subscriber) => {
    let inner: { unsubscribe(): void } | undefined;
    let closed = false;
    load().then(
      (source) => {
        if (!closed) inner = source.subscribe(subscriber);
      },
      (error: unknown) => subscriber.error(error),
    );
    return () => {
      closed = true;
      inner?.unsubscribe();
    };
  });
}

/** A source that fails at once with `error`. */
function failing(error: unknown): SnapshotSource {
  return {
    subscribe: (observer) => {
      observer.error?.(error);
      return { unsubscribe: () => {} };
    },
  };
}

/** The snapshots of one job out of a source that may carry many. */
function onlyJob(source: SnapshotSource, jobid: string): SnapshotSource {
  return {
    subscribe: (observer) =>
      source.subscribe({
        next: (snapshot) => {
          if (snapshot.jobid === jobid) observer.next?.(snapshot);
        },
        error: (error: unknown) => observer.error?.(error),
        complete: () => observer.complete?.(),
      }),
  };
}
