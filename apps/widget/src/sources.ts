import { type AdminClient, createAdminClient } from '@jobwatch/client';
import { createWatcher, fromDaemon, type Watcher } from '@jobwatch/rx';
import type { Snapshot } from '@jobwatch/schema';
import { defer, EMPTY, type Observable, repeat, tap, timer } from 'rxjs';
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
 * one page that show the same job share one poll loop and one request budget.
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
    const watcher = watcherFor(
      request.adminUrl,
      request.deployment ?? 'default',
      request.tokenProvider,
    );
    return jobid ? watcher.watch(jobid) : watcher.watchAll({ discover: true });
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
  return defer(() => {
    let jobEnded = false;
    return defer(open).pipe(
      tap((snapshot) => {
        if (oneJob && snapshot.terminal) jobEnded = true;
      }),
      repeat({ delay: () => (jobEnded ? EMPTY : timer(RESUME_AFTER_END_MS)) }),
    );
  });
}

const watchers = new WeakMap<TokenProvider, Map<string, Watcher>>();

function watcherFor(adminUrl: string, deployment: string, tokenProvider: TokenProvider): Watcher {
  let byUrl = watchers.get(tokenProvider);
  if (!byUrl) {
    byUrl = new Map();
    watchers.set(tokenProvider, byUrl);
  }
  const key = `${deployment}\u0000${adminUrl}`;
  let watcher = byUrl.get(key);
  if (!watcher || watcher.closed) {
    const client: AdminClient = createAdminClient({
      url: adminUrl,
      auth: { type: 'provider', getToken: tokenProvider },
    });
    watcher = createWatcher(client, { deployment });
    byUrl.set(key, watcher);
  }
  return watcher;
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
