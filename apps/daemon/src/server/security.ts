/**
 * API keys, event-stream tickets and CORS for the daemon's HTTP API.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Checks `Authorization: Bearer <key>` against the configured keys in constant time
 * (both sides are hashed first, so neither length nor content leaks through timing).
 */
export function createKeyCheck(
  keys: readonly string[],
): (authorization: string | undefined) => boolean {
  const hashed = keys.map(digest);
  return (authorization) => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) return false;
    const given = digest(match[1]);
    let ok = false;
    for (const key of hashed) ok = timingSafeEqual(key, given) || ok;
    return ok;
  };
}

/** Short-lived, HMAC-signed tickets that let `EventSource` (which sends no headers) open the event stream. */
export interface TicketIssuer {
  /** A new ticket and its expiry (epoch ms). */
  issue(): { ticket: string; expiresAt: number };
  /** Whether a ticket is genuine and unexpired. */
  verify(ticket: string): boolean;
}

/** Options of {@link createTicketIssuer}. */
export interface TicketOptions {
  /** Signing key. @default 32 random bytes, so tickets die with the process */
  readonly key?: Buffer;
  /** Lifetime of a ticket in ms. @default 60_000 */
  readonly ttlMs?: number;
  /** Clock seam. @default Date.now */
  readonly now?: () => number;
}

/**
 * Makes tickets of the form `<expiry base36>.<nonce>.<HMAC-SHA256 base64url>`. They are
 * bearer tokens for the event stream only, valid until they expire.
 */
export function createTicketIssuer(options: TicketOptions = {}): TicketIssuer {
  const key = options.key ?? randomBytes(32);
  const ttl = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const sign = (payload: string) => createHmac('sha256', key).update(`ticket.${payload}`).digest();
  return {
    issue() {
      const expiresAt = now() + ttl;
      const payload = `${expiresAt.toString(36)}.${randomBytes(12).toString('base64url')}`;
      return { ticket: `${payload}.${sign(payload).toString('base64url')}`, expiresAt };
    },
    verify(ticket) {
      const at = ticket.lastIndexOf('.');
      if (at <= 0 || ticket.length > 200) return false;
      const payload = ticket.slice(0, at);
      const given = Buffer.from(ticket.slice(at + 1), 'base64url');
      const expected = sign(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
      const expiresAt = Number.parseInt(payload.split('.')[0] ?? '', 36);
      return Number.isFinite(expiresAt) && expiresAt > now();
    },
  };
}

/** CORS headers for one request: allowed origins get them, with `Vary: Origin` always. */
export function corsHeaders(
  origins: readonly string[],
  origin: string | undefined,
): { allowed: boolean; headers: Record<string, string> } {
  const headers: Record<string, string> = { vary: 'Origin' };
  if (!origin) return { allowed: true, headers };
  if (!origins.includes(origin) && !origins.includes('*')) return { allowed: false, headers };
  headers['access-control-allow-origin'] = origin;
  headers['access-control-allow-headers'] = 'Authorization, Content-Type, Last-Event-ID';
  headers['access-control-allow-methods'] = 'GET, POST, DELETE, OPTIONS';
  headers['access-control-max-age'] = '600';
  return { allowed: true, headers };
}
