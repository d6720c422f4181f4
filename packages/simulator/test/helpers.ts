import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';

/** A JSON body read in a test; its shape is what the assertions check. */
// biome-ignore lint/suspicious/noExplicitAny: bodies under test are checked by the assertions that read them
export type Body = any;

/** A raw answer: status, headers and body text. */
export interface Raw {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** One HTTP exchange on a fresh connection, with nothing added by a client library. */
export function raw(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    path?: string;
  } = {},
): Promise<Raw> {
  const u = new URL(url);
  const headers: Record<string, string | number> = { ...init.headers };
  const framed = Object.keys(headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h));
  if (init.body !== undefined && !framed) headers['content-length'] = Buffer.byteLength(init.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        method: init.method ?? 'GET',
        path: init.path ?? `${u.pathname}${u.search}`,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

/** GETs `url` with `params` (f=json unless given) and parses JSON. */
export async function getJson(
  url: string,
  params: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<Body> {
  const q = new URLSearchParams({ f: 'json', ...params });
  const r = await raw(`${url}?${q}`, { headers });
  return JSON.parse(r.text);
}

/** POSTs a form (f=json unless given) and parses JSON. */
export async function postForm(
  url: string,
  params: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<Body> {
  const body = new URLSearchParams({ f: 'json', ...params }).toString();
  const r = await raw(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
  return JSON.parse(r.text);
}

/** POSTs JSON to the control surface. */
export async function control(
  url: string,
  method: string,
  body?: unknown,
): Promise<Raw & { json: Body }> {
  const r = await raw(url, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { ...r, json: r.text ? JSON.parse(r.text) : undefined };
}

/** A documented example body from `test/fixtures/`. */
export function fixture(name: string): Body {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8'));
}

/**
 * Differences in shape between `actual` and `expected`: the same keys at every level,
 * the same JSON types, and array elements shaped like the example's.
 */
export function shapeDiff(actual: unknown, expected: unknown, path = '$'): string[] {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(actual) !== kind(expected))
    return [`${path}: ${kind(actual)} where the example has ${kind(expected)}`];
  if (Array.isArray(actual) && Array.isArray(expected)) {
    if (expected.length === 0) return [];
    return actual.flatMap((item, i) =>
      shapeDiff(item, expected[Math.min(i, expected.length - 1)], `${path}[${i}]`),
    );
  }
  if (kind(actual) === 'object') {
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    const out: string[] = [];
    for (const k of Object.keys(e)) if (!(k in a)) out.push(`${path}.${k}: missing`);
    for (const k of Object.keys(a)) if (!(k in e)) out.push(`${path}.${k}: not in the example`);
    for (const k of Object.keys(e)) if (k in a) out.push(...shapeDiff(a[k], e[k], `${path}.${k}`));
    return out;
  }
  return [];
}
