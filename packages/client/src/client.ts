/**
 * `createAdminClient`: the options read once (`settings.ts`), the request path
 * (`request.ts`) and the admin API's calls (`methods.ts`), put together.
 */
import type { JobId } from '@jobwatch/schema';
import type { AdminClient, AdminClientOptions } from './api.js';
import { ConfigError } from './errors.js';
import { adminMethods } from './methods.js';
import { createRequester } from './request.js';
import { clientSettings } from './settings.js';
import { allowedOrigins, sourceMethods } from './sources/jobs.js';
import { assertSecureFor } from './urls.js';

export { DEFAULT_TIMEOUT } from './settings.js';

/**
 * Creates a client for one ArcGIS Enterprise admin root. Nothing is requested until the
 * first call; configuration that cannot work or is unsafe throws {@link ConfigError} here.
 *
 * Retry rule: reads (GET, and `generateToken`) are retried on transient failures
 * (network, timeout, 5xx, 429, unreadable body) with exponential backoff and full jitter,
 * honouring `Retry-After`, within `retry.attempts` and `retry.deadline`. A POST operation is
 * **never** retried once the request may have reached the server, since a second POST could
 * start a second job; it is retried only when the connection failed before the request left
 * (refused, unknown host; Node only), or when the server refused the token (498/499), in
 * which case the token is refreshed once and the request sent once more.
 *
 * @example
 * ```ts
 * const client = createAdminClient({
 *   url: 'https://gis.example.com/arcgis/admin',
 *   auth: { type: 'credentials', username: 'admin', password },
 * });
 * const { jobid } = await client.stopService('Hydrants.MapServer', { async: true });
 * const job = await client.getJob(jobid);
 * ```
 * @throws {@link ConfigError} for a bad URL or timeout, or a token or password over plain
 * `http:` to a host other than this machine without `allowInsecureHttp`.
 */
export function createAdminClient(options: AdminClientOptions): AdminClient {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('createAdminClient needs an options object with at least { url }');
  }
  const settings = clientSettings(options);
  const requester = createRequester(settings, options.auth);
  // Jobs of other sources: only on the admin URL's origin and those configured beside it.
  const origins = allowedOrigins(settings.root, options.origins);
  if (options.auth !== undefined && options.auth.type !== 'none') {
    for (const origin of origins) {
      assertSecureFor(new URL(origin), 'token', settings.allowInsecureHttp);
    }
  }
  const sources = sourceMethods({
    root: settings.root,
    origins,
    request: (spec, call, read) => requester.request(spec, call, read),
    sink: (kind, url, warnings, jobid) =>
      settings.sink(kind, url, warnings, jobid as JobId | undefined),
  });
  // Assigned onto the admin calls, not spread: their `tokenHeader` getter stays live.
  return Object.freeze(Object.assign(adminMethods(settings, requester), sources));
}
