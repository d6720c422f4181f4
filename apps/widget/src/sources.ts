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
 * direct mode when `adminUrl` is set, else `source`.
 */
export function sourceFor(request: SourceRequest): SnapshotSource | undefined {
  const { source, jobid } = request;
  if (!source) return undefined;
  return jobid ? onlyJob(source, jobid) : source;
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
