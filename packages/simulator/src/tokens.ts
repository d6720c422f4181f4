import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { TokenHeaderMode } from './quirks.js';

/** An issued token. */
interface Issued {
  readonly username: string;
  readonly expires: number;
}

/** How a presented token fared. */
export type TokenCheck =
  | { readonly ok: true; readonly username: string }
  | { readonly ok: false; readonly reason: 'missing' | 'invalid' | 'expired' };

/**
 * Issues and checks tokens. Tokens are random (from the system's secure source, not the
 * seed), live until their expiry on the simulator's clock, and all die at a revoke.
 */
export class TokenStore {
  readonly #tokens = new Map<string, Issued>();
  #issuedSincePrune = 0;

  /** Issues a token for `username`, valid until `expires` (epoch ms). */
  issue(username: string, expires: number, now: number): string {
    if (++this.#issuedSincePrune >= 1000) this.#prune(now);
    const token = randomBytes(24).toString('base64url');
    this.#tokens.set(token, { username, expires });
    return token;
  }

  /** Checks a presented token at `now`. */
  check(token: string | undefined, now: number): TokenCheck {
    if (token === undefined || token === '') return { ok: false, reason: 'missing' };
    const issued = this.#tokens.get(token);
    if (!issued) return { ok: false, reason: 'invalid' };
    if (issued.expires <= now) return { ok: false, reason: 'expired' };
    return { ok: true, username: issued.username };
  }

  /** Invalidates every issued token; returns how many there were. */
  revoke(): number {
    const n = this.#tokens.size;
    this.#tokens.clear();
    return n;
  }

  #prune(now: number): void {
    this.#issuedSincePrune = 0;
    for (const [token, issued] of this.#tokens)
      if (issued.expires <= now) this.#tokens.delete(token);
  }
}

/**
 * The token a request carries: from the headers the token-header mode reads (a token in the
 * other header counts as none), else from the `token` parameter. Shared by every source.
 */
export function tokenOf(
  headers: IncomingHttpHeaders,
  params: URLSearchParams,
  mode: TokenHeaderMode,
): string | undefined {
  const names =
    mode === 'both' ? (['x-esri-authorization', 'authorization'] as const) : ([mode] as const);
  for (const name of names) {
    const value = headers[name];
    if (typeof value === 'string') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
      if (m) return m[1];
    }
  }
  return params.get('token') ?? undefined;
}
