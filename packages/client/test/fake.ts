/** A fetch that answers from a handler and records every request, for unit tests. */

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The form fields of a POST, or the query of a GET. */
  readonly params: Record<string, string>;
}

export type Handler = (req: Seen, n: number) => Response | Promise<Response>;

export const JOB_ID = 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d';
export const ROOT = 'https://gis.example.com/arcgis/admin';
export const TOKEN_URL = 'https://gis.example.com/arcgis/sharing/rest/generateToken';

export function json(body: unknown, init: ResponseInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status: 200,
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
  });
}

export function jobBody(jobid: string = JOB_ID, status = 'EXECUTING'): Record<string, unknown> {
  return {
    jobid,
    status,
    starttime: 1635961542583,
    endtime: 0,
    updatedtime: 1635961542589,
    operationURI: '/arcgis/admin/services/Hydrants.MapServer/edit',
    username: 'admin',
  };
}

/** A fetch that never answers until its signal aborts. */
export const never = (): Promise<Response> => new Promise<Response>(() => undefined);

export function fakeFetch(handler: Handler) {
  const seen: Seen[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(input, init);
    const body = req.method === 'GET' ? '' : await req.text();
    const url = new URL(req.url);
    const params = Object.fromEntries(
      req.method === 'GET' ? url.searchParams : new URLSearchParams(body),
    );
    const record: Seen = {
      method: req.method,
      url: req.url,
      headers: Object.fromEntries(req.headers),
      body,
      params,
    };
    seen.push(record);
    const signal = init?.signal ?? req.signal;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new DOMException('This operation was aborted', 'AbortError'));
        return;
      }
      signal?.addEventListener('abort', () =>
        reject(new DOMException('This operation was aborted', 'AbortError')),
      );
      Promise.resolve()
        .then(() => handler(record, seen.length))
        .then(resolve, reject);
    });
  }) as typeof globalThis.fetch;
  return { fetch, seen };
}

/** Every string reachable from an error: message, stack, own fields, the cause chain. */
export function everything(error: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  const walk = (value: unknown, depth: number) => {
    if (depth > 6 || value === null || value === undefined || seen.has(value)) return;
    if (typeof value !== 'object') {
      parts.push(String(value));
      return;
    }
    seen.add(value);
    if (value instanceof Error) {
      parts.push(value.message, value.stack ?? '');
      walk(value.cause, depth + 1);
    }
    try {
      parts.push(JSON.stringify(value));
    } catch {
      // circular: the walk below still covers the fields
    }
    for (const key of Object.getOwnPropertyNames(value)) {
      walk((value as Record<string, unknown>)[key], depth + 1);
    }
  };
  walk(error, 0);
  return parts.join('\n');
}

/** A TypeError shaped like Node's fetch failing to connect. */
export function connectionRefused(): TypeError {
  const cause = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), {
    code: 'ECONNREFUSED',
  });
  return new TypeError('fetch failed', { cause });
}

/** A TypeError shaped like Node's fetch losing the connection after sending. */
export function connectionReset(): TypeError {
  const cause = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
  return new TypeError('fetch failed', { cause });
}
