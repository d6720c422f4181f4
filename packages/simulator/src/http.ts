import type { IncomingMessage, ServerResponse } from 'node:http';
import { CodedError } from '@jobwatch/schema';
import type { FaultDecision } from './faults.js';

/** The response formats of the admin API. */
export type Format = 'html' | 'json' | 'pjson';

/** Format A: `{"error": {"code", "message", "details"}}`. */
export function restError(
  code: number,
  message: string,
  details: string[] = [],
): Record<string, unknown> {
  return { error: { code, message, details } };
}

/** Format B: `{"status": "error", "messages", "code"}`. */
export function adminError(code: number, messages: string[]): Record<string, unknown> {
  return { status: 'error', messages, code };
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** The small HTML page the admin API answers by default (`f=html`); `heading` names the directory. */
export function htmlPage(
  title: string,
  body: unknown,
  heading = 'ArcGIS Enterprise Administrator Directory',
): string {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h2>${escapeHtml(heading)}</h2><h3>${escapeHtml(title)}</h3><pre>${escapeHtml(JSON.stringify(body, null, 2))}</pre><p>Supported formats: html, json, pjson</p></body></html>\n`;
}

/** A gateway's HTML error page (what a proxy in front of ArcGIS answers on 5xx). */
export function gatewayPage(status: number, reason: string): string {
  return `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

/** Writes a complete response, unless the socket is gone. */
export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  extra: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache',
    ...extra,
  });
  res.end(text);
}

/** Writes an admin API body in the asked format, mangled if a body fault applies. */
export function sendBody(
  res: ServerResponse,
  format: Format,
  title: string,
  body: unknown,
  fault?: FaultDecision,
  status = 200,
  heading?: string,
): void {
  if (format === 'html' && !fault) {
    send(res, status, 'text/html;charset=utf-8', htmlPage(title, body, heading));
    return;
  }
  let text = format === 'pjson' ? JSON.stringify(body, null, 2) : JSON.stringify(body);
  if (fault?.kind === 'malformed')
    text = `{"status": "EXECUTING", jobid: ${text.slice(1, 24)}<br/>`;
  else if (fault?.kind === 'truncated')
    text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
  else if (fault?.kind === 'empty') text = '';
  send(
    res,
    status,
    format === 'pjson' ? 'text/plain;charset=utf-8' : 'application/json;charset=utf-8',
    text,
  );
}

/** A request body that could not be read. */
export class BodyError extends CodedError<'BODY_TOO_LARGE' | 'BAD_REQUEST'> {
  override name = 'BodyError';
  constructor(
    readonly status: 413 | 400,
    message: string,
  ) {
    super(status === 413 ? 'BODY_TOO_LARGE' : 'BAD_REQUEST', message);
  }
}

/** Reads a request body up to `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyError(413, `The request body is larger than ${limit} bytes.`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new BodyError(413, `The request body is larger than ${limit} bytes.`));
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    const abort = (message: string) => {
      if (failed || ended) return;
      failed = true;
      reject(new BodyError(400, message));
    };
    req.on('error', (error) => abort(error.message));
    // A client that goes away mid-body may close without an error: never leave the read hanging.
    req.on('close', () => abort('The request body ended early.'));
  });
}

const BAD_ESCAPE = /%(?![0-9a-fA-F]{2})/;

/** Parses a form-encoded body. @throws {@link BodyError} on a malformed percent-escape. */
export function parseForm(text: string): URLSearchParams {
  if (BAD_ESCAPE.test(text))
    throw new BodyError(400, 'The form body has a malformed percent-escape.');
  return new URLSearchParams(text);
}
