import type { IncomingHttpHeaders } from 'node:http';
import { adminError, restError } from './http.js';
import type { Site } from './site.js';
import { tokenOf } from './tokens.js';

/** A request to one of the sister sources, as their handlers see it. */
export interface SourceRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** Query and form parameters, the form's winning. */
  readonly params: URLSearchParams;
  /** The origin URLs in answers are built on. */
  readonly origin: string;
  /** The request's path (no query), which error-body quirks are chosen by. */
  readonly path: string;
}

/** What a handler answers; `exact` when an error's documented body decides what a client does next. */
export interface SourceAnswer {
  readonly body: unknown;
  readonly title: string;
  readonly exact?: boolean;
}

/**
 * Checks the token a request carries (both headers, or the one the token-header mode
 * reads, or the `token` parameter): the user's name, or the documented error answer — 499
 * when missing, 498 when invalid or expired — in format A on resources, in format B
 * (`{"status":"error","messages","code"}`) on admin operations.
 */
export function authenticate(
  site: Site,
  req: SourceRequest,
  title: string,
  format: 'rest' | 'admin',
): { readonly username: string } | SourceAnswer {
  const check = site.tokens.check(
    tokenOf(req.headers, req.params, site.tokenHeader),
    site.clock.now(),
  );
  if (check.ok) return { username: check.username };
  const missing = check.reason === 'missing';
  if (format === 'admin')
    return {
      title,
      exact: true,
      body: missing
        ? adminError(499, [
            "Unauthorized access.Token not found. You can generate a token using the 'generateToken' operation.",
          ])
        : adminError(498, ['Invalid token.']),
    };
  return {
    title,
    exact: true,
    body: missing ? restError(499, 'Token Required') : restError(498, 'Invalid token.'),
  };
}

/** Whether {@link authenticate} refused the request. */
export function refused(
  result: { readonly username: string } | SourceAnswer,
): result is SourceAnswer {
  return 'body' in result;
}

/** The answer, with the `errorBodies` quirk applied unless it is exact. */
export function finish(site: Site, req: SourceRequest, answer: SourceAnswer): SourceAnswer {
  return answer.exact
    ? { title: answer.title, body: answer.body }
    : { title: answer.title, body: site.quirks.errorBody(answer.body, req.path) };
}
