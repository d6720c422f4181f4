import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultDecision } from './faults.js';
import { BodyError, gatewayPage, parseForm, readBody, restError, send } from './http.js';

const JSON_TYPE = 'application/json;charset=utf-8';

/** Answers a JSON error body with a real HTTP status (what a web server in front says). */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  details: string[] = [],
  extra: Record<string, string> = {},
): void {
  send(res, status, JSON_TYPE, JSON.stringify(restError(status, message, details)), extra);
}

/** A raw request target split into its path and query (fragments dropped). */
export function splitUrl(raw: string): { rawPath: string; query: string } {
  const q = raw.indexOf('?');
  return {
    rawPath: (q >= 0 ? raw.slice(0, q) : raw).split('#', 1)[0] ?? '',
    query: q >= 0 ? (raw.slice(q + 1).split('#', 1)[0] ?? '') : '',
  };
}

/**
 * Sets the cross-origin headers a deployment with `allowedOrigins` sends, and answers a
 * preflight; `true` when the request is done.
 */
export function applyCors(
  req: IncomingMessage,
  res: ServerResponse,
  cors: boolean | readonly string[],
): boolean {
  const pageOrigin = req.headers.origin;
  const allowed =
    typeof pageOrigin === 'string' &&
    (cors === true || (Array.isArray(cors) && cors.includes(pageOrigin)));
  if (!allowed) return false;
  res.setHeader('Access-Control-Allow-Origin', pageOrigin);
  res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
  res.setHeader('Vary', 'Origin');
  if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
    res.writeHead(204, {
      'Access-Control-Allow-Methods': 'GET, POST',
      'Access-Control-Allow-Headers': 'Authorization, X-Esri-Authorization, Content-Type',
      'Access-Control-Max-Age': '600',
      'Content-Length': '0',
    });
    res.end();
    return true;
  }
  return false;
}

/** Refuses methods other than GET and POST with 405; `true` when it did. */
export function rejectMethod(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'POST') return false;
  sendError(
    res,
    405,
    `Method ${String(req.method).slice(0, 16)} is not supported.`,
    ['Use GET or POST.'],
    {
      Allow: 'GET, POST',
    },
  );
  return true;
}

/**
 * The request's parameters: the query's, then a form body's (winning). Answers 400 for a
 * malformed escape, 413 for a body over `maxBodyBytes`, 415 for a body that is not a form,
 * and resolves `undefined` once it has answered.
 */
export async function readParams(
  req: IncomingMessage,
  res: ServerResponse,
  query: string,
  maxBodyBytes: number,
): Promise<URLSearchParams | undefined> {
  try {
    const params = new URLSearchParams(query);
    if (query.length > 0 && /%(?![0-9a-fA-F]{2})/.test(query))
      throw new BodyError(400, 'The query has a malformed percent-escape.');
    if (req.method !== 'POST') return params;
    const type = String(req.headers['content-type'] ?? '')
      .split(';', 1)[0]!
      .trim()
      .toLowerCase();
    const text = await readBody(req, maxBodyBytes);
    if (text.length === 0 && !type) return params;
    if (type && type !== 'application/x-www-form-urlencoded') {
      sendError(res, 415, `Content type '${type.slice(0, 64)}' is not supported.`, [
        'Send parameters as application/x-www-form-urlencoded.',
      ]);
      return undefined;
    }
    for (const [k, v] of parseForm(text)) params.set(k, v);
    return params;
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    sendError(
      res,
      error.status,
      error.message,
      [],
      error.status === 413 ? { Connection: 'close' } : {},
    );
    return undefined;
  }
}

/** Acts on a fault that replaces the answer; `true` when the request is done. */
export async function gatewayFault(
  req: IncomingMessage,
  res: ServerResponse,
  d: FaultDecision,
): Promise<boolean> {
  switch (d.kind) {
    case 'reset':
      req.socket.resetAndDestroy();
      return true;
    case 'http502':
      send(res, 502, 'text/html', gatewayPage(502, 'Bad Gateway'));
      return true;
    case 'http503':
      send(res, 503, 'text/html', gatewayPage(503, 'Service Temporarily Unavailable'));
      return true;
    case 'http504':
      send(res, 504, 'text/html', gatewayPage(504, 'Gateway Time-out'));
      return true;
    case 'http429':
      send(res, 429, 'text/html', gatewayPage(429, 'Too Many Requests'), {
        'Retry-After': String(d.retryAfterSeconds),
      });
      return true;
    case 'delay':
      await new Promise<void>((resolve) => {
        // A keep-alive socket serves many requests: the listener must go with the delay,
        // or every delayed request leaves one behind on the socket.
        const socket = req.socket;
        const done = () => {
          clearTimeout(timer);
          socket.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, d.delayMs);
        socket.once('close', done);
      });
      return res.destroyed;
    default:
      return false;
  }
}
