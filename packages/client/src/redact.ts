/**
 * Keeps secrets out of everything jobwatch writes: error messages, excerpts, fields.
 * Known secrets are cut out by value; anything that looks like one is cut out by shape.
 */

/** What a removed secret is replaced with. */
export const REDACTED = '[redacted]';

/** The longest excerpt of a body kept on an error. */
export const MAX_EXCERPT = 160;

const SHAPES: readonly RegExp[] = [
  // token=…, password=…, in URLs and forms
  /\b(token|password|access_token|refresh_token)=([^&\s"'<>]+)/gi,
  // "token": "…", "password": "…" in JSON
  /("(?:token|password|access_token|refresh_token)"\s*:\s*")([^"]*)(")/gi,
  // Authorization headers
  /\b(Bearer)\s+([A-Za-z0-9._~+/=-]+)/gi,
];

// A long run of token alphabet (ArcGIS tokens are 100+ characters). Job ids (38) stay.
const LONG_RUN = /[A-Za-z0-9._~+/=-]{48,}/g;

// `scheme://user:password@` in running text: everything from the scheme to the last `@` of
// the same word goes (a password may hold `/`, `?` or `#`).
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s"'<>]*@/gi;

/**
 * A URL as it may be shown: without a user name or password. A URL that parses loses its
 * userinfo and keeps the rest; text that does not parse loses everything between its scheme
 * (or its start) and its last `@`, since nothing can tell where such a password ends.
 *
 * @example
 * ```ts
 * withoutCredentials('https://admin:hunter2@gis example.com/arcgis/admin');
 * // 'https://[redacted]@gis example.com/arcgis/admin'
 * ```
 */
export function withoutCredentials(text: string): string {
  try {
    const url = new URL(text);
    if (!url.username && !url.password) return text;
    url.username = '';
    url.password = '';
    return url.href;
  } catch {
    const at = text.lastIndexOf('@');
    if (at < 0) return text;
    const start = /^[a-z][a-z0-9+.-]*:\/*/i.exec(text)?.[0].length ?? 0;
    return `${text.slice(0, Math.min(start, at))}${REDACTED}@${text.slice(at + 1)}`;
  }
}

/**
 * Removes the given secrets, and anything shaped like a token or password, from `text`.
 * Secrets shorter than 4 characters are not searched for by value (they would cut words).
 */
export function redact(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
    // Also as it would appear form-encoded.
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && encoded.length >= 4) out = out.split(encoded).join(REDACTED);
  }
  out = out
    .replace(SHAPES[0]!, (_m, key: string) => `${key}=${REDACTED}`)
    .replace(
      SHAPES[1]!,
      (_m, head: string, _v: string, tail: string) => `${head}${REDACTED}${tail}`,
    )
    .replace(SHAPES[2]!, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(USERINFO, (_m, scheme: string) => `${scheme}${REDACTED}@`)
    .replace(LONG_RUN, REDACTED);
  return out;
}

/**
 * A short, one-line, secret-free excerpt of a body for an error: tags and whitespace
 * collapsed, secrets removed, at most {@link MAX_EXCERPT} characters.
 */
export function excerptOf(body: string, secrets: Iterable<string> = []): string | undefined {
  const text = body
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (text === '') return undefined;
  const clean = redact(text, secrets);
  return clean.length > MAX_EXCERPT ? `${clean.slice(0, MAX_EXCERPT - 1)}…` : clean;
}

/** A URL without its query string and fragment, for messages and error fields. */
export function displayUrl(url: string | URL): string {
  const u = typeof url === 'string' ? safeUrl(url) : url;
  if (!u) return redact(url.toString().split(/[?#]/, 1)[0] ?? '');
  return `${u.origin}${u.pathname}`;
}

function safeUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
