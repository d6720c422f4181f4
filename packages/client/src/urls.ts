/**
 * Every URL the client requests is built here, from the configured admin root and
 * validated pieces: nothing a caller or a server passes can move a request elsewhere.
 */
import { type JobId, parseJobId } from '@jobwatch/schema';
import type { ServiceRef } from './api.js';
import { ConfigError, InvalidJobIdError, toJobwatchError } from './errors.js';
import { displayUrl, redact, withoutCredentials } from './redact.js';

/** The admin root, parsed once. */
export interface AdminRoot {
  /** `https://host/context/admin`, no trailing slash. */
  readonly url: string;
  readonly origin: string;
  /** `/context/admin`, no trailing slash. */
  readonly path: string;
  readonly secure: boolean;
  readonly loopback: boolean;
}

/**
 * Whether a host name is this machine: 127.0.0.0/8, `::1` (in any spelling, bracketed or
 * not, IPv4-mapped `::ffff:127.x.y.z` included), `localhost` and names under `.localhost`,
 * in any case. Takes `URL.hostname` or a host as written (a listen address).
 */
export function isLoopbackHost(hostname: string): boolean {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host.includes(':')) {
    // An IPv6 literal: the URL parser writes every spelling of one address the same way.
    let short: string;
    try {
      short = new URL(`http://[${host}]/`).hostname;
    } catch {
      return false;
    }
    return short === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(short);
  }
  return /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host);
}

/** Parses an absolute http(s) URL given in options, refusing embedded credentials and queries. */
export function parseHttpUrl(input: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    const shown = JSON.stringify(redact(withoutCredentials(String(input))).slice(0, 80));
    throw new ConfigError(
      `${what} is not an absolute URL (${shown}): give one like https://host/context/admin`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(
      `${what} must use https: (or http: to this machine), not ${url.protocol}`,
    );
  }
  if (url.username || url.password) {
    throw new ConfigError(
      `${what} must not carry a user name or password: pass them in auth instead`,
    );
  }
  if (url.search || url.hash) {
    throw new ConfigError(
      `${what} must not carry a query or fragment (${displayUrl(url)}): pass the token in auth instead`,
    );
  }
  return url;
}

/** Validates and normalizes the admin root URL. */
export function parseAdminRoot(input: string): AdminRoot {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new ConfigError('The admin URL is missing: give one like https://host/context/admin');
  }
  const url = parseHttpUrl(input.trim(), 'The admin URL');
  const path = url.pathname.replace(/\/+$/, '');
  return {
    url: `${url.origin}${path}`,
    origin: url.origin,
    path,
    secure: url.protocol === 'https:',
    loopback: isLoopbackHost(url.hostname),
  };
}

/**
 * The admin URL as the client requests it: `https://host/<context>/admin` with the scheme and
 * host in lower case, the default port, a trailing slash, an empty query and fragment left out.
 * @throws {@link ConfigError} for a URL the client refuses (not http(s), credentials, a query).
 */
export function normalizeAdminUrl(input: string): string {
  return parseAdminRoot(input).url;
}

/**
 * The token URL for an admin root: `.../<context>/admin` → `.../<context>/sharing/rest/generateToken`.
 * @throws {@link ConfigError} when the admin URL does not end in `/admin`.
 */
export function deriveTokenUrl(root: AdminRoot): string {
  if (!/\/admin$/i.test(root.path)) {
    throw new ConfigError(
      `Cannot derive the token URL from ${root.url} (it does not end in /admin): give auth.tokenUrl`,
    );
  }
  return `${root.origin}${root.path.replace(/\/admin$/i, '')}/sharing/rest/generateToken`;
}

/**
 * The `generateToken` URL the client derives from an admin URL when none is given:
 * `https://host/<context>/admin` → `https://host/<context>/sharing/rest/generateToken`.
 * @throws {@link ConfigError} when the admin URL is invalid or does not end in `/admin`.
 */
export function tokenUrlFor(adminUrl: string): string {
  return deriveTokenUrl(parseAdminRoot(adminUrl));
}

/**
 * Refuses to send a secret over plain http to anything but this machine.
 * @throws {@link ConfigError}
 */
export function assertSecureFor(
  url: URL | AdminRoot,
  secret: 'token' | 'password',
  allowInsecureHttp: boolean,
): void {
  const secure = url instanceof URL ? url.protocol === 'https:' : url.secure;
  const loopback = url instanceof URL ? isLoopbackHost(url.hostname) : url.loopback;
  if (secure || loopback || allowInsecureHttp) return;
  const shown = url instanceof URL ? displayUrl(url) : url.url;
  throw new ConfigError(
    `Refusing to send a ${secret} over plain http to ${shown}: use https, or set allowInsecureHttp if the network is trusted`,
  );
}

// ArcGIS names services and folders with letters, digits and underscores; a few
// deployments use "-" and spaces. Anything that could change a URL is refused.
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_ -]{0,127}$/;
const TYPE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/** Checks one path segment named by a caller. @throws {@link ConfigError} */
export function segment(value: unknown, what: string): string {
  if (typeof value !== 'string' || !SEGMENT.test(value)) {
    const shown =
      typeof value === 'string' ? JSON.stringify(redact(value).slice(0, 60)) : typeof value;
    throw new ConfigError(`Invalid ${what} ${shown}: use letters, digits, "_", "-" or spaces`);
  }
  return encodeURIComponent(value);
}

/** A service named by folder (optional), name and type. */
export interface ServiceParts {
  readonly folder: string | undefined;
  readonly name: string;
  readonly type: string;
}

/** Reads a {@link ServiceRef} (`"Folder/Name.MapServer"` or an object) and checks every part. */
export function serviceParts(ref: ServiceRef): ServiceParts {
  let parts: { folder?: string | undefined; name: string; type: string };
  if (typeof ref === 'string') {
    const slash = ref.lastIndexOf('/');
    const folder = slash >= 0 ? ref.slice(0, slash) : undefined;
    const rest = slash >= 0 ? ref.slice(slash + 1) : ref;
    const dot = rest.lastIndexOf('.');
    if (dot <= 0) {
      throw new ConfigError(
        `Invalid service ${JSON.stringify(redact(ref).slice(0, 80))}: write it as "Name.MapServer" or "Folder/Name.MapServer"`,
      );
    }
    parts = { folder, name: rest.slice(0, dot), type: rest.slice(dot + 1) };
  } else if (typeof ref === 'object' && ref !== null) {
    parts = { ...ref, folder: ref.folder ?? undefined };
  } else {
    throw new ConfigError('Invalid service: give "Name.MapServer" or { name, type, folder? }');
  }
  segment(parts.name, 'service name');
  if (typeof parts.type !== 'string' || !TYPE.test(parts.type)) {
    throw new ConfigError(
      `Invalid service type ${JSON.stringify(String(parts.type).slice(0, 40))}: use e.g. MapServer`,
    );
  }
  const folder = parts.folder === '' || parts.folder === '/' ? undefined : parts.folder;
  if (folder !== undefined) segment(folder, 'folder');
  return { folder, name: parts.name, type: parts.type };
}

/** `<root>/services/[<folder>/]<name>.<type>`. */
export function serviceUrl(root: AdminRoot, parts: ServiceParts): string {
  const folder = parts.folder === undefined ? '' : `${encodeURIComponent(parts.folder)}/`;
  return `${root.url}/services/${folder}${encodeURIComponent(parts.name)}.${parts.type}`;
}

/** Validates a job id, as {@link InvalidJobIdError}. */
export function jobId(input: unknown): JobId {
  try {
    return parseJobId(input);
  } catch (error) {
    const e = toJobwatchError(error);
    throw e instanceof InvalidJobIdError ? e : new InvalidJobIdError(e.message);
  }
}

/** `<root>/jobs/<jobid>`. */
export function jobUrl(root: AdminRoot, id: JobId): string {
  return `${root.url}/jobs/${id}`;
}

/**
 * The job id in a handle's `jobsUrl`, only if the URL is the admin root's own
 * `<root>/jobs/<jobid>`: same origin, same admin path.
 * @throws {@link ConfigError} for any other URL, {@link InvalidJobIdError} for an unsafe id.
 */
export function jobIdFromJobsUrl(root: AdminRoot, jobsUrl: string): JobId {
  let url: URL;
  try {
    url = new URL(jobsUrl);
  } catch {
    throw new ConfigError(
      `Not an absolute job URL (${JSON.stringify(redact(withoutCredentials(String(jobsUrl))).slice(0, 80))}): pass the jobsUrl of a handle`,
    );
  }
  if (url.origin !== root.origin || url.username || url.password) {
    throw new ConfigError(
      `Refusing to request ${displayUrl(url)}: it is not on the configured admin URL's origin ${root.origin}`,
    );
  }
  const prefix = `${root.path}/jobs/`;
  const path = url.pathname.replace(/\/$/, '');
  const id = path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
  if (id === undefined || id === '' || id.includes('/')) {
    throw new ConfigError(
      `Refusing to request ${displayUrl(url)}: it is not a job under ${root.url}/jobs/`,
    );
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(id);
  } catch {
    decoded = id;
  }
  return jobId(decoded);
}

/**
 * A path under the admin root for {@link AdminClient.operation}: relative, with safe
 * segments (`services/refreshAutodeployedServices`).
 * @throws {@link ConfigError}
 */
export function operationUrl(root: AdminRoot, path: string): string {
  const segments = typeof path === 'string' ? path.replace(/^\/+|\/+$/g, '').split('/') : [];
  if (
    segments.length === 0 ||
    segments.some((s) => !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(s) || s.includes('..'))
  ) {
    const shown =
      typeof path === 'string' ? JSON.stringify(redact(path).slice(0, 80)) : typeof path;
    throw new ConfigError(
      `Invalid operation path ${shown}: give a path under the admin URL such as services/refreshAutodeployedServices`,
    );
  }
  return `${root.url}/${segments.join('/')}`;
}
