/**
 * What {@link ClientHooks} are told of each call: its start, then its answer or its error
 * with the HTTP status, the attempts and the time it took. With no hooks the client makes no
 * trace at all, so a poll loop pays nothing for them.
 */
import type { ClientHooks, ClientOperation, RequestInfo } from './api.js';
import { ConfigError, type JobwatchError, toJobwatchError } from './errors.js';

/** What one call's exchanges write down for its hooks. */
export interface Trace {
  /** HTTP attempts sent so far. */
  attempts: number;
  /** The HTTP status of the last answer. */
  status: number | undefined;
}

/** One call being watched by the hooks: ends exactly once, with {@link Observation.ok} or {@link Observation.failed}. */
export interface Observation {
  readonly trace: Trace;
  ok(): void;
  failed(error: JobwatchError): void;
}

const HOOK_NAMES = ['onRequest', 'onResponse', 'onError'] as const;

/**
 * Checks the `hooks` option: an object whose members, when given, are functions.
 * @throws {@link ConfigError}
 */
export function checkHooks(hooks: unknown): ClientHooks | undefined {
  if (hooks === undefined) return undefined;
  if (typeof hooks !== 'object' || hooks === null) {
    throw new ConfigError('hooks must be an object of onRequest, onResponse and onError functions');
  }
  for (const name of HOOK_NAMES) {
    const value = (hooks as Record<string, unknown>)[name];
    if (value !== undefined && typeof value !== 'function') {
      throw new ConfigError(`hooks.${name} must be a function`);
    }
  }
  return hooks as ClientHooks;
}

/** Calls a hook; whatever it throws is dropped, so a listener never costs a call. */
function tell<T>(hook: ((info: T) => void) | undefined, info: T): void {
  if (!hook) return;
  try {
    hook(info);
  } catch {
    // A listener's failure never costs a request.
  }
}

/** A monotonic clock where there is one (Node, browsers), the wall clock otherwise. */
const clock: () => number =
  typeof globalThis.performance?.now === 'function'
    ? () => globalThis.performance.now()
    : () => Date.now();

/** Starts watching one call: tells `onRequest` now and returns what ends it. */
export function observe(
  hooks: ClientHooks,
  operation: ClientOperation,
  method: 'GET' | 'POST',
  url: string,
): Observation {
  const info: RequestInfo = { operation, method, url };
  const started = clock();
  const trace: Trace = { attempts: 0, status: undefined };
  tell(hooks.onRequest, info);
  return {
    trace,
    ok() {
      tell(hooks.onResponse, {
        ...info,
        status: trace.status ?? 200,
        durationMs: clock() - started,
        attempts: trace.attempts,
      });
    },
    failed(error) {
      tell(hooks.onError, {
        ...info,
        error,
        status: trace.status,
        durationMs: clock() - started,
        attempts: trace.attempts,
      });
    },
  };
}

/**
 * Runs one call under the hooks: `run` gets the trace its exchanges write to, and the hooks
 * hear of the call's start and its end. Without hooks, `run` alone, with no trace.
 */
export async function observed<T>(
  hooks: ClientHooks | undefined,
  spec: {
    readonly operation: ClientOperation;
    readonly method: 'GET' | 'POST';
    readonly url: string;
  },
  run: (trace: Trace | undefined) => Promise<T>,
): Promise<T> {
  if (!hooks) return run(undefined);
  const observation = observe(hooks, spec.operation, spec.method, spec.url);
  try {
    const value = await run(observation.trace);
    observation.ok();
    return value;
  } catch (error) {
    const e = toJobwatchError(error);
    observation.failed(e);
    throw e;
  }
}
