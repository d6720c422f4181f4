import { SchemaError } from './errors.js';
import { describeValue } from './validate.js';

declare const jobIdBrand: unique symbol;

/**
 * A job id that is safe to put in a URL path segment. Made only by {@link parseJobId}
 * (or {@link isJobId}), so a value of this type never needs escaping.
 */
export type JobId = string & { readonly [jobIdBrand]: true };

/** The longest job id jobwatch accepts. */
export const MAX_JOB_ID_LENGTH = 128;

const SAFE = /^[A-Za-z0-9_-]+$/;
const CANONICAL =
  /^j(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$/i;

function problem(input: unknown): string | undefined {
  if (typeof input !== 'string') return 'a job id string';
  if (input.length === 0) return 'a non-empty job id';
  if (input.length > MAX_JOB_ID_LENGTH)
    return `a job id of at most ${MAX_JOB_ID_LENGTH} characters`;
  if (!SAFE.test(input)) return 'a job id of letters, digits, "-" and "_" only';
  return undefined;
}

/**
 * Whether `input` is a safe job id: 1–128 characters of letters, digits, `-` and `_`.
 * Anything that could change a URL (`/`, `.`, `%`, `?`, `#`, whitespace, control
 * characters) is refused.
 */
export function isJobId(input: unknown): input is JobId {
  return problem(input) === undefined;
}

/**
 * Whether `id` has one of the forms ArcGIS Enterprise is known to issue: `j` and a dashed
 * UUID (`j2bcbcd49-83a4-4cc1-a034-40e4a266e96d`) or `j` and 32 hex digits.
 * Other safe ids are still accepted by {@link parseJobId}, since a newer server may change form.
 */
export function isCanonicalJobId(id: string): boolean {
  return CANONICAL.test(id);
}

/**
 * Validates a job id before any URL is built from it.
 *
 * @throws {@link SchemaError} with code `INVALID_JOB_ID`, naming what was wrong.
 * @example
 * ```ts
 * const id = parseJobId(process.argv[2]); // throws on "../services" or "j1?x=y"
 * ```
 */
export function parseJobId(input: unknown): JobId {
  const expected = problem(input);
  if (expected === undefined) return input as JobId;
  throw new SchemaError(
    'jobId',
    [{ pointer: '', path: 'jobId', expected, found: describeValue(input) }],
    'INVALID_JOB_ID',
  );
}
