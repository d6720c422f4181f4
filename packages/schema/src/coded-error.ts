/**
 * The one error base of jobwatch, on its lowest floor: every error any package throws for an
 * expected failure (a body that does not match, a refused request, a bad configuration, a
 * simulator spec) is a {@link CodedError} with a stable machine `code`.
 */

/**
 * An `Error` with a stable machine `code` (one of its package's code constants) and a one-line
 * message that says what happened, free of secrets. Each package's errors extend it:
 * `SchemaError`, the client's `JobwatchError` (and through it rx's), `DaemonError`, the
 * daemon API's errors and `SimulatorError`. Tell them apart with `instanceof` or the
 * package's guard, never by comparing codes across packages.
 *
 * @example
 * ```ts
 * try { run(); } catch (e) { if (isCodedError(e)) log(e.code, e.message); else throw e; }
 * ```
 */
export class CodedError<Code extends string = string> extends Error {
  override name = 'CodedError';
  /** What went wrong, for machines: stable across releases. */
  readonly code: Code;
  constructor(code: Code, message: string, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** Whether `value` is a {@link CodedError} of any jobwatch package. */
export function isCodedError(value: unknown): value is CodedError {
  return value instanceof CodedError;
}
