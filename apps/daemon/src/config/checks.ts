/**
 * Checks of single values in the configuration: admin and webhook URLs, durations and pacing
 * bounds, the token header, the listen address and `Host` names. Each throws a `CONFIG`
 * {@link DaemonError} that names the key.
 */
import { normalizeAdminUrl, type TokenHeader, withoutCredentials } from '@jobwatch/client';
import { type DurationBounds, parseDuration } from '../duration.js';
import { configError, type DaemonError } from '../errors.js';
import { type ConfigFile, TOKEN_HEADERS } from './schema.js';

/** A URL as the user wrote it, for a message: without credentials, at most 80 characters. */
const shownUrl = (input: string) => JSON.stringify(withoutCredentials(input).slice(0, 80));

/**
 * Checks an admin URL: http(s), no credentials, no query or fragment.
 * @returns the URL as the client normalizes it (see `normalizeAdminUrl`): no trailing slash.
 */
export function checkAdminUrl(input: string, name = '--url'): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw configError(
      `${name}: ${shownUrl(input)} is not a URL; expected https://host/<context>/admin`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw configError(`${name}: expected an http or https URL, got ${url.protocol}`);
  }
  if (url.username || url.password)
    throw configError(
      `${name}: credentials do not belong in the URL; use --username/--password-file or --token`,
    );
  if (url.search || url.hash)
    throw configError(`${name}: expected the admin root without query or fragment`);
  // The client's own normal form, so the daemon shows the URL every request is built from.
  try {
    return normalizeAdminUrl(url.href);
  } catch (error) {
    throw configError(`${name}: ${(error as Error).message}`);
  }
}

/** Checks an origin of a deployment's `origins`: http(s), a host, nothing else; its normal form. */
export function checkOrigin(input: string, name: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw configError(`${name}: ${shownUrl(input)} is not an origin; expected https://host[:port]`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw configError(`${name}: expected an http or https origin, got ${url.protocol}`);
  if (url.username || url.password || url.search || url.hash || url.pathname !== '/')
    throw configError(`${name}: expected only https://host[:port], without path or credentials`);
  return url.origin;
}

/** Checks a webhook URL: http(s), no credentials (the secret signs instead). */
export function checkWebhookUrl(input: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw configError(`${name}: ${shownUrl(input)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw configError(`${name}: expected an http or https URL, got ${url.protocol}`);
  if (url.username || url.password)
    throw configError(`${name}: credentials do not belong in the URL; sign with secret instead`);
  return url;
}

/** A token header from a flag or the environment, checked and named when wrong. */
export function tokenHeaderOf(value: string | undefined, name: string): TokenHeader | undefined {
  if (value === undefined || value === '') return undefined;
  if ((TOKEN_HEADERS as readonly string[]).includes(value)) return value as TokenHeader;
  throw configError(
    `${name}: expected ${TOKEN_HEADERS.join(', ')}, got ${JSON.stringify(value.slice(0, 40))}`,
  );
}

/** Pacing bounds, checked in order: the floor may not be above the ceiling (defaults 1s, 60s). */
export function resolvePacing(
  pacing: NonNullable<NonNullable<ConfigFile['deployments']>[number]['pacing']>,
  at: string,
): { minInterval?: number; maxInterval?: number } {
  const min = pacing.minInterval
    ? durationKey(pacing.minInterval, `${at}.pacing.minInterval`)
    : undefined;
  const max = pacing.maxInterval
    ? durationKey(pacing.maxInterval, `${at}.pacing.maxInterval`)
    : undefined;
  if ((min ?? 1_000) > (max ?? 60_000))
    throw configError(
      `${at}.pacing: minInterval (${pacing.minInterval ?? '1s'}) is above maxInterval (${pacing.maxInterval ?? '60s'})`,
    );
  return {
    ...(min !== undefined ? { minInterval: min } : {}),
    ...(max !== undefined ? { maxInterval: max } : {}),
  };
}

/** Bounds of `cluster.leasePeriod`, in ms: long enough to renew, short enough to take over. */
export const LEASE_PERIOD_BOUNDS = { min: 1_000, max: 600_000 } as const;

/** A duration under `key`, as a configuration error when it is not one. */
export function durationKey(text: string, key: string, bounds?: DurationBounds): number {
  try {
    return parseDuration(text, key, bounds);
  } catch (error) {
    throw configError((error as DaemonError).message);
  }
}

/** Bounds of `events.heartbeat`: a ping at least every hour keeps proxies from closing a quiet stream, and at most one a second. */
export const HEARTBEAT_BOUNDS = { min: 1_000, max: 3_600_000 } as const;

/** Parses `host:port` (`[::1]:8787` for IPv6, `:8787` for all interfaces). */
export function parseListen(text: string, name = 'listen'): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535)
    throw configError(
      `${name}: expected host:port such as 127.0.0.1:8787, got ${JSON.stringify(text)}`,
    );
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

/** A `Host` header's host name, lower case, without a port or a trailing dot. */
export function hostName(host: string): string {
  const bracket = /^\[([^\]]*)\]/.exec(host);
  const name = bracket ? `[${bracket[1]}]` : (host.split(':')[0] ?? '');
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * Checks a Redis URL: `redis:` or `rediss:` with a host. A message shows the URL without its
 * user name and password, or not at all when it does not parse.
 */
export function checkRedisUrl(input: string, name: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw configError(`${name}: not a URL; expected redis://[user:password@]host:port[/db]`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw configError(`${name}: expected redis:// or rediss://, got ${url.protocol}`);
  if (!url.hostname) throw configError(`${name}: expected a host, as in redis://host:6379`);
  return input;
}
