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
