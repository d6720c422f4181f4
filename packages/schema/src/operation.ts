/** What a job's `operationURI` says, read for people. */
export interface OperationInfo {
  /** The operation's last word: `edit`, `start`, `stop`, `deleteServices`, `create`, … */
  readonly operation: string;
  /** `service` for a service operation, `backup` for a backup, `other` otherwise. */
  readonly target: 'service' | 'services' | 'backup' | 'other';
  /** The service's name without its folder, for a service operation. */
  readonly serviceName?: string;
  /** The service's folder, when it is in one. */
  readonly folder?: string;
  /** The service type (`MapServer`, …), for a service operation. */
  readonly serviceType?: string;
  /** The backup store, for a backup operation. */
  readonly store?: string;
  /** The path after `/admin/`, for display when nothing better is known. */
  readonly path: string;
}

/**
 * Reads a job's `operationURI` (`/context/admin/services/Folder/Name.MapServer/edit`)
 * into its parts. Never throws: an unfamiliar URI yields `target: 'other'`.
 *
 * @example
 * ```ts
 * parseOperationUri('/arcgis/admin/services/FireWeatherWatch.MapServer/edit');
 * // { operation: 'edit', target: 'service', serviceName: 'FireWeatherWatch', serviceType: 'MapServer', … }
 * ```
 */
export function parseOperationUri(uri: string | undefined | null): OperationInfo {
  const clean = (uri ?? '').split(/[?#]/, 1)[0] ?? '';
  const segments = clean.split('/').filter(Boolean).map(safeDecode);
  const adminAt = segments.indexOf('admin');
  const rest = adminAt >= 0 ? segments.slice(adminAt + 1) : segments;
  const path = rest.join('/');
  const operation = rest[rest.length - 1] ?? '';
  if (rest[0] === 'services') {
    const serviceAt = rest.findIndex((s, i) => i > 0 && /^[^.]+\.[A-Za-z]+Server$/.test(s));
    if (serviceAt > 0) {
      const [serviceName = '', serviceType = ''] = (rest[serviceAt] ?? '').split('.');
      const folder = rest.slice(1, serviceAt).join('/');
      return {
        operation: serviceAt === rest.length - 1 ? '' : operation,
        target: 'service',
        serviceName,
        serviceType,
        ...(folder ? { folder } : {}),
        path,
      };
    }
    return { operation, target: 'services', path };
  }
  const storesAt = rest.indexOf('stores');
  if (rest.includes('backups') && storesAt >= 0) {
    const store = rest[storesAt + 1];
    return { operation, target: 'backup', ...(store ? { store } : {}), path };
  }
  return { operation, target: 'other', path };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
