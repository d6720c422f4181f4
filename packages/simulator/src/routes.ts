import type { ServiceKey } from './catalogue.js';
import type { SimRoute } from './site.js';

const SERVICE = /^([^./]+)\.([A-Za-z][A-Za-z0-9]*)$/;
const FOLDER = /^[A-Za-z0-9_-]+$/;
const SERVICE_OPS = new Set(['start', 'stop', 'edit']);

/** Where a request under the admin root goes, read from its path segments. */
export interface AdminTarget {
  readonly route: SimRoute;
  /** The service a `service` or `operation` route names. */
  readonly service?: ServiceKey;
  /** `start`, `stop`, `edit`, `deleteServices`; `stores` or `create` on the backup route. */
  readonly op?: string;
  /** The folder a `services` route lists. */
  readonly folder?: string;
  /** The disaster-recovery store of a backup. */
  readonly store?: string;
}

/** Reads `Name.Type` (a service path segment), or `undefined`. */
export function parseServiceName(segment: string): { name: string; type: string } | undefined {
  const m = SERVICE.exec(segment);
  return m ? { name: m[1]!, type: m[2]! } : undefined;
}

/** Whether a name is safe as a folder or store name. */
export function isPlainName(name: string): boolean {
  return FOLDER.test(name);
}

/** Resolves the segments after `/<context>/admin/` to a route. */
export function resolveAdminRoute(admin: readonly string[]): AdminTarget {
  const [a, b, c, d] = admin;
  if (a === undefined) return { route: 'site' };
  if (a === 'jobs')
    return admin.length === 1
      ? { route: 'jobsList' }
      : admin.length === 2
        ? { route: 'job' }
        : { route: 'other' };
  if (a === 'services') {
    if (b === undefined) return { route: 'services', folder: '' };
    if (b === 'deleteServices' && admin.length === 2)
      return { route: 'operation', op: 'deleteServices' };
    const direct = parseServiceName(b);
    if (direct) {
      const service = { folder: '', ...direct };
      if (c === undefined) return { route: 'service', service };
      if (SERVICE_OPS.has(c) && admin.length === 3) return { route: 'operation', service, op: c };
      return { route: 'other' };
    }
    if (!isPlainName(b)) return { route: 'other' };
    if (c === undefined) return { route: 'services', folder: b };
    const nested = parseServiceName(c);
    if (!nested) return { route: 'other' };
    const service = { folder: b, ...nested };
    if (d === undefined) return { route: 'service', service };
    if (SERVICE_OPS.has(d) && admin.length === 4) return { route: 'operation', service, op: d };
    return { route: 'other' };
  }
  if (a === 'system' && b === 'disasterrecovery' && c === 'stores') {
    if (admin.length === 3) return { route: 'backup', op: 'stores' };
    if (admin.length === 6 && admin[4] === 'backups' && admin[5] === 'create')
      return { route: 'backup', op: 'create', store: d! };
  }
  return { route: 'other' };
}

/**
 * Splits a raw request path into decoded segments, or `undefined` for a hostile path: dot
 * segments, encoded slashes, backslashes, bad escapes or control characters.
 */
export function pathSegments(rawPath: string): string[] | undefined {
  if (!rawPath.startsWith('/') || rawPath.length > 4096) return undefined;
  if (/%2f|%5c|%2e|\\|%00/i.test(rawPath)) return undefined;
  const out: string[] = [];
  const parts = rawPath.slice(1).split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '.' || part === '..') return undefined;
    if (part === '' && i !== parts.length - 1) return undefined;
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      return undefined;
    }
    if (/[\u0000-\u001f\u007f]/.test(decoded)) return undefined;
    out.push(decoded);
  }
  return out;
}

/** The web contexts of the simulated deployment. */
export interface Contexts {
  /** ArcGIS Enterprise on Kubernetes: `/<enterprise>/admin`. */
  readonly enterprise: string;
  /** ArcGIS Server: `/<server>/admin` and `/<server>/rest/services`. */
  readonly server: string;
  /** Portal: `/<portal>/sharing/rest`. */
  readonly portal: string;
}

/** Where a request goes: which source's handlers, the route it is counted under, and its path. */
export type Target =
  | { readonly family: 'token'; readonly route: 'generateToken' }
  | {
      readonly family: 'enterprise';
      readonly route: SimRoute;
      readonly admin: readonly string[];
      readonly target: AdminTarget;
    }
  | { readonly family: 'server'; readonly route: SimRoute; readonly admin: readonly string[] }
  | { readonly family: 'gp'; readonly route: SimRoute; readonly rest: readonly string[] }
  | { readonly family: 'portal'; readonly route: SimRoute; readonly sharing: readonly string[] };

const SERVER_OPS = new Set(['start', 'stop', 'edit', 'delete']);

/** Resolves the segments after `/<server>/admin/`. */
export function resolveServerRoute(admin: readonly string[]): SimRoute {
  const [a, b, c] = admin;
  if (a === 'system' && b === 'jobs')
    return admin.length === 2 ? 'serverJobsList' : admin.length === 3 ? 'serverJob' : 'serverAdmin';
  if (a === 'services' && (admin.length === 3 || admin.length === 4)) {
    const op = admin[admin.length - 1]!;
    const named = admin.length === 3 ? b : c;
    if (SERVER_OPS.has(op) && named !== undefined && parseServiceName(named))
      return 'serverOperation';
  }
  return 'serverAdmin';
}

/** Resolves the segments after `/<server>/rest/services/`. */
export function resolveGpRoute(rest: readonly string[]): SimRoute {
  const at = rest.indexOf('GPServer');
  if (at < 0) return 'gpCatalog';
  const tail = rest.slice(at + 2);
  if (tail.length === 1 && tail[0] === 'submitJob') return 'gpSubmit';
  if (tail[0] !== 'jobs') return 'gpCatalog';
  if (tail.length === 2) return 'gpJob';
  if (tail.length === 3 && tail[2] === 'cancel') return 'gpCancel';
  if (tail.length === 4 && (tail[2] === 'results' || tail[2] === 'inputs')) return 'gpParam';
  return 'gpCatalog';
}

/**
 * Resolves a request's path segments (decoded, context first) to its target, or
 * `undefined` when no context of the deployment serves it.
 */
export function resolveTarget(segments: readonly string[], contexts: Contexts): Target | undefined {
  const [context, a, b, c] = segments;
  const rest = segments.slice(1);
  const isSharingToken =
    a === 'sharing' && b === 'rest' && c === 'generateToken' && rest.length === 3;
  if (context === contexts.enterprise) {
    if (isSharingToken || (a === 'admin' && b === 'generateToken' && rest.length === 2))
      return { family: 'token', route: 'generateToken' };
    if (a !== 'admin') return undefined;
    const admin = rest.slice(1);
    const target = resolveAdminRoute(admin);
    return { family: 'enterprise', route: target.route, admin, target };
  }
  if (context === contexts.server) {
    if (
      isSharingToken ||
      (a === 'admin' && b === 'generateToken' && rest.length === 2) ||
      (a === 'tokens' && b === 'generateToken' && rest.length === 2)
    )
      return { family: 'token', route: 'generateToken' };
    if (a === 'admin') {
      const admin = rest.slice(1);
      return { family: 'server', route: resolveServerRoute(admin), admin };
    }
    if (a === 'rest' && b === 'services') {
      const path = rest.slice(2);
      return { family: 'gp', route: resolveGpRoute(path), rest: path };
    }
    return undefined;
  }
  if (context === contexts.portal && a === 'sharing' && b === 'rest') {
    if (isSharingToken) return { family: 'token', route: 'generateToken' };
    const sharing = rest.slice(2);
    const isStatus =
      sharing.length === 6 &&
      sharing[0] === 'content' &&
      sharing[1] === 'users' &&
      sharing[3] === 'items' &&
      sharing[5] === 'status';
    return { family: 'portal', route: isStatus ? 'itemStatus' : 'other', sharing };
  }
  return undefined;
}
