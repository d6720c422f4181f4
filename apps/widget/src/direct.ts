/**
 * Direct mode: the admin API, polled by `@jobwatch/rx` with a token the page already holds.
 * Loaded on demand by {@link sourceFor} the first time an element sets `admin-url`, so the
 * admin client, its HTTP library and the body validators stay out of pages that follow the
 * daemon or a `source`. In the single-file build this module is its own file,
 * `jobwatch-widget-direct.js`, fetched from beside `jobwatch-widget.js`.
 *
 * @packageDocumentation
 */
import { createAdminClient } from '@jobwatch/client';
import { createWatcher, sharedWatcher } from '@jobwatch/rx';
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

/**
 * The snapshots of one job, or of every job, polled directly through the watcher rx shares
 * (`sharedWatcher`) per token provider, admin URL and deployment: widgets on one page that
 * show the same job make one poll loop and share one request budget, and the loop stops
 * shortly (rx's `grace`, 2 s) after the last of them is gone.
 */
export function watchDirect(request: DirectRequest): Observable<Snapshot> {
  const { adminUrl, deployment, tokenProvider, jobid } = request;
  const watcher = sharedWatcher(tokenProvider, `${deployment}\u0000${adminUrl}`, () =>
    createWatcher(
      createAdminClient({ url: adminUrl, auth: { type: 'provider', getToken: tokenProvider } }),
      { deployment },
    ),
  );
  return jobid ? watcher.watch(jobid) : watcher.watchAll({ discover: true });
}
