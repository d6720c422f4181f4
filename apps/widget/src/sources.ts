import { type DaemonStreamState, fromDaemon } from '@jobwatch/rx';
import type { Snapshot } from '@jobwatch/schema';
import { Observable } from 'rxjs';
import type { SnapshotSource } from './controller.js';
import type { TicketProvider, TokenProvider } from './providers.js';

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
  /**
   * Told how the daemon's stream is doing (connected, lost, unreachable, and the requested
   * jobs it does not watch); see `fromDaemon`'s `onState`. Daemon sources only.
   */
  readonly onState?: ((state: DaemonStreamState) => void) | undefined;
}

/**
 * The source an element follows: the daemon's event stream when `daemon` is set, else
 * direct mode when `adminUrl` is set (once a `tokenProvider` is there too), else `source`.
 *
 * The daemon's stream is followed across the daemon's restarts: its `end` (shutting down) is
 * taken like a dropped connection — the jobs show stale, and the stream is opened again and
 * catches up — and a one-job stream that ended with its job stays ended.
 *
 * Direct mode shares one watcher per admin URL, deployment and token provider (through rx's
 * `sharedWatcher`), so widgets on one page that show the same job share one poll loop and
 * one request budget. Its code
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
    return fromDaemon(daemon, {
      reconnectOnEnd: true,
      ...(jobid ? { jobid } : {}),
      ...(request.deployment ? { deployment: request.deployment } : {}),
      ...(request.ticketProvider ? { ticket: request.ticketProvider } : {}),
      ...(request.onState ? { onState: request.onState } : {}),
    });
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
