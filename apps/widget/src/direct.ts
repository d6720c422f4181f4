/**
 * Direct mode: the admin API, polled by `@jobwatch/rx` with a token the page already holds.
 * Loaded on demand by {@link sourceFor} the first time an element sets `admin-url`, so the
 * admin client, its HTTP library and the body validators stay out of pages that follow the
 * daemon or a `source`. In the single-file build this module is its own file,
 * `jobwatch-widget-direct.js`, fetched from beside `jobwatch-widget.js`.
 *
 * @packageDocumentation
 */
import { type AdminClient, createAdminClient } from '@jobwatch/client';
import { createWatcher, type Watcher } from '@jobwatch/rx';
import type { Snapshot } from '@jobwatch/schema';
import type { Observable } from 'rxjs';
import type { TokenProvider } from './providers.js';

/** What direct mode watches, and with which token. */
export interface DirectRequest {
  readonly adminUrl: string;
  readonly deployment: string;
  readonly tokenProvider: TokenProvider;
  /** One job; absent to watch every job of the deployment (discovering new ones). */
  readonly jobid?: string | undefined;
}

const watchers = new WeakMap<TokenProvider, Map<string, Watcher>>();

/**
 * The snapshots of one job, or of every job, polled directly. One watcher per admin URL,
 * deployment and token provider, so widgets on one page that show the same job share one
 * poll loop and one request budget.
 */
export function watchDirect(request: DirectRequest): Observable<Snapshot> {
  const watcher = watcherFor(request);
  return request.jobid ? watcher.watch(request.jobid) : watcher.watchAll({ discover: true });
}

function watcherFor({ adminUrl, deployment, tokenProvider }: DirectRequest): Watcher {
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
