import { CodedError } from './coded-error.js';

/** One problem found while validating a body. */
export interface SchemaIssue {
  /** JSON pointer to the offending value inside the body (`/result/service/type`); `` for the root. */
  readonly pointer: string;
  /** The same place, written for people: `job.result.service.type`. */
  readonly path: string;
  /** What the schema wanted there, in words (`a string`, `one of SUBMITTED, …`). */
  readonly expected: string;
  /** What was there, as a short excerpt (`42`, `missing`, `an array`). */
  readonly found: string;
}

/**
 * Something in a body that was not in its documented shape, but did not decide what
 * watching needs (the job asked for and its status). Parsing went on: a numeric string where
 * a number is documented was read as the number, a single value where a list is documented
 * as a list of one; anything else was taken out of its typed place (so a typed field never
 * holds a value of another type) and is described here.
 */
export interface SchemaWarning {
  /** JSON pointer to the value in the body as it came (`/result/service/properties/x`). */
  readonly pointer: string;
  /** What the schema documents there, in words (`a number`, `a string or null`). */
  readonly expected: string;
  /** What was there, as a short excerpt (`"1635285646933"`, `{"code":5}`, `42`). */
  readonly found: string;
}

/** Stable machine codes of {@link SchemaError}. */
export type SchemaErrorCode = 'SCHEMA_INVALID' | 'INVALID_JOB_ID';

/**
 * A body did not match its schema, or a job id was unsafe. Thrown by every `parse*`
 * function of `@jobwatch/schema`; `safeParse*` functions return it instead.
 *
 * The message is one line a person can act on (`job.status: expected a string, got 42`);
 * `issues` holds every problem with its JSON pointer.
 */
export class SchemaError extends CodedError<SchemaErrorCode> {
  override readonly name = 'SchemaError';
  /** Which body was being read: `job`, `service`, `jobId`, … */
  readonly kind: string;
  /** Every problem found, first one first. */
  readonly issues: readonly SchemaIssue[];

  constructor(
    kind: string,
    issues: readonly SchemaIssue[],
    code: SchemaErrorCode = 'SCHEMA_INVALID',
  ) {
    super(code, SchemaError.describe(kind, issues));
    this.kind = kind;
    this.issues = issues;
  }

  private static describe(kind: string, issues: readonly SchemaIssue[]): string {
    const first = issues[0];
    if (!first) return `${kind}: invalid`;
    const more =
      issues.length > 1
        ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})`
        : '';
    return `${first.path}: expected ${first.expected}, got ${first.found}${more}`;
  }
}

/** Whether `value` is a {@link SchemaError} (also across package copies). */
export function isSchemaError(value: unknown): value is SchemaError {
  return (
    value instanceof SchemaError ||
    (typeof value === 'object' &&
      value !== null &&
      (value as { name?: unknown }).name === 'SchemaError' &&
      Array.isArray((value as { issues?: unknown }).issues))
  );
}

/**
 * The result of a `safeParse*` function: the typed value with the warnings met on the way
 * (an empty list for a body in its documented shape), or the error that a `parse*` would
 * throw.
 */
export type SafeParseResult<T> =
  | { readonly success: true; readonly data: T; readonly warnings: readonly SchemaWarning[] }
  | { readonly success: false; readonly error: SchemaError };
