import { SimulatorError } from './errors.js';
import { createRandom } from './random.js';

/**
 * The ways a real server's bodies differ from the documented examples (see the project's
 * `real-world.md`), each of which the simulator can show when its quirks are on:
 *
 * - `messageObjects`: `messages` as `{type, description}` objects
 *   (`type` such as `esriJobMessageTypeError`), as geoprocessing jobs send them;
 * - `mixedMessages`: `messages` a mix of such objects and strings;
 * - `noMessages`: a FAILED job without a top-level `messages`, its reason only in `result`
 *   (never together with `noResult` or `nullResult`: the reason stays somewhere);
 * - `noResult`: a FAILED job without `result`;
 * - `stringResult`: a FAILED job whose `result` is a string (its first message);
 * - `nullResult`: a FAILED job with `result: null`;
 * - `errorResult`: a FAILED job whose `result` is `{error: {message}}`;
 * - `nullUsername`: `username: null`, as for anonymous work;
 * - `noOperationUri`: no `operationURI`;
 * - `errorStatus`: `ERROR` instead of `FAILED`;
 * - `lowerCaseStatus`: every status in lower case (`submitted`, `executing`, `completed`,
 *   `timed out`, …), the job handle's `jobStatus` too;
 * - `typedProperties`: in a completed edit's `result.service`, numeric and boolean
 *   `properties` values (`1000`, `true` instead of `"1000"`, `"true"`), and booleans for
 *   `extensions[].enabled`;
 * - `backupNoResult`: a completed backup without `result` (as on 12.0);
 * - `stringTimestamps`: `starttime`, `endtime` and `updatedtime` as numeric strings;
 * - `extraFields`: fields no document names (`jobType`, `machineName`, `retryCount`,
 *   `details` on jobs; `status: "success"` on job handles);
 * - `errorBodies`: error answers in the other shapes arcgis-rest-js reads — an `error`
 *   without `code`, a top-level `{code, message}`, and `status: "failed"` with a
 *   `statusMessage` (JSON text or plain). Token errors (498, 499) and an unknown job (404)
 *   keep their documented bodies, since what a watch does next depends on them.
 *
 * Quirks of the sister sources (each shows only on jobs of its source):
 *
 * - `stepInfoOverflow` (ArcGIS Server admin jobs): a job that ended in an error lists one
 *   `stepInfo` entry more than `totalsteps` (the rollback step), as Esri's own documented
 *   example does;
 * - `noProgress` (geoprocessing jobs): no `progress` member while executing, as servers
 *   before 10.8.1 answer;
 * - `expectedFailure` (geoprocessing jobs): `jobStatus: "expectedFailure"` instead of
 *   `esriJobFailed`, a value the GP job page lists and arcgis-rest-js reads;
 * - `statusMessageJson` (portal item jobs): a failed job's `statusMessage` is JSON text
 *   (`{"code","message"}`), the form arcgis-rest-js reads as an error body.
 */
export const QuirkName = {
  messageObjects: 'messageObjects',
  mixedMessages: 'mixedMessages',
  noMessages: 'noMessages',
  noResult: 'noResult',
  stringResult: 'stringResult',
  nullResult: 'nullResult',
  errorResult: 'errorResult',
  nullUsername: 'nullUsername',
  noOperationUri: 'noOperationUri',
  errorStatus: 'errorStatus',
  lowerCaseStatus: 'lowerCaseStatus',
  typedProperties: 'typedProperties',
  backupNoResult: 'backupNoResult',
  stringTimestamps: 'stringTimestamps',
  extraFields: 'extraFields',
  errorBodies: 'errorBodies',
  stepInfoOverflow: 'stepInfoOverflow',
  noProgress: 'noProgress',
  expectedFailure: 'expectedFailure',
  statusMessageJson: 'statusMessageJson',
} as const;

/** One of {@link QuirkName}. */
export type QuirkNameValue = (typeof QuirkName)[keyof typeof QuirkName];

/** Every quirk, in a fixed order. */
export const QUIRK_NAMES: readonly QuirkNameValue[] = Object.freeze(Object.values(QuirkName));

/**
 * The job source each quirk shows on: `enterprise` (admin jobs), `server` (ArcGIS Server
 * admin jobs), `gp` (geoprocessing jobs), `item` (portal item jobs), or `all` (error answers
 * of every source).
 */
export const QUIRK_SOURCES: Readonly<
  Record<QuirkNameValue, 'enterprise' | 'server' | 'gp' | 'item' | 'all'>
> = Object.freeze({
  messageObjects: 'enterprise',
  mixedMessages: 'enterprise',
  noMessages: 'enterprise',
  noResult: 'enterprise',
  stringResult: 'enterprise',
  nullResult: 'enterprise',
  errorResult: 'enterprise',
  nullUsername: 'enterprise',
  noOperationUri: 'enterprise',
  errorStatus: 'enterprise',
  lowerCaseStatus: 'enterprise',
  typedProperties: 'enterprise',
  backupNoResult: 'enterprise',
  stringTimestamps: 'enterprise',
  extraFields: 'enterprise',
  errorBodies: 'all',
  stepInfoOverflow: 'server',
  noProgress: 'gp',
  expectedFailure: 'gp',
  statusMessageJson: 'item',
});

/**
 * Which quirks are on: `true` for all of {@link QUIRK_NAMES}, `false` for none, or a list of
 * names for just those.
 */
export type QuirksOption = boolean | readonly QuirkNameValue[];

/**
 * Which header carries the token, like the two kinds of real deployment: `both` (the
 * default) reads `X-Esri-Authorization` and `Authorization`; `x-esri-authorization` (a
 * deployment behind web-tier authentication, where `Authorization` belongs to the web
 * server) and `authorization` read only that one, and answer a token in the other header
 * as missing (499).
 */
export type TokenHeaderMode = 'both' | 'x-esri-authorization' | 'authorization';

/** Every {@link TokenHeaderMode}. */
export const TOKEN_HEADER_MODES: readonly TokenHeaderMode[] = Object.freeze([
  'both',
  'x-esri-authorization',
  'authorization',
]);

/**
 * Quirks that exclude each other share a group: a job shows at most one of each group. The
 * order is fixed, since each group takes the same two draws from a job's stream whichever
 * quirks are on.
 */
const GROUPS: ReadonlyArray<readonly QuirkNameValue[]> = [
  ['messageObjects', 'mixedMessages', 'noMessages'],
  ['noResult', 'stringResult', 'nullResult', 'errorResult'],
  ['nullUsername'],
  ['noOperationUri'],
  ['errorStatus'],
  ['lowerCaseStatus'],
  ['typedProperties'],
  ['backupNoResult'],
  ['stringTimestamps'],
  ['extraFields'],
  // Appended, never inserted: the draws of the groups above stay what they were.
  ['stepInfoOverflow'],
  ['noProgress'],
  ['expectedFailure'],
  ['statusMessageJson'],
];

/** The error shapes of the `errorBodies` quirk. */
const ERROR_SHAPES = ['noCode', 'topLevelCode', 'statusFailedJson', 'statusFailedPlain'] as const;

/**
 * Reads a quirks setting from untrusted input into the list of quirks it turns on.
 * @throws {@link SimulatorError} with `code` for anything but a boolean or a list of known names.
 */
export function parseQuirks(
  input: unknown,
  code: 'INVALID_OPTIONS' | 'INVALID_SPEC' = 'INVALID_SPEC',
): QuirkNameValue[] {
  if (input === true) return [...QUIRK_NAMES];
  if (input === false || input === undefined) return [];
  if (!Array.isArray(input))
    throw new SimulatorError(code, 'quirks must be true, false or a list of quirk names');
  for (const name of input as unknown[]) {
    if (!QUIRK_NAMES.includes(name as QuirkNameValue))
      throw new SimulatorError(
        code,
        `unknown quirk ${JSON.stringify(name)}; known: ${QUIRK_NAMES.join(', ')}`,
      );
  }
  return QUIRK_NAMES.filter((name) => (input as unknown[]).includes(name));
}

/**
 * Reads a token-header mode from untrusted input.
 * @throws {@link SimulatorError} with `code` for anything else.
 */
export function parseTokenHeader(
  input: unknown,
  code: 'INVALID_OPTIONS' | 'INVALID_SPEC' = 'INVALID_SPEC',
): TokenHeaderMode {
  if (TOKEN_HEADER_MODES.includes(input as TokenHeaderMode)) return input as TokenHeaderMode;
  throw new SimulatorError(code, `tokenHeader must be one of ${TOKEN_HEADER_MODES.join(', ')}`);
}

/**
 * Decides which quirks each body shows. Every choice is a function of the seed and the job
 * id (or, for error answers, the path), never of the order of requests: a job shows the same
 * quirks on every poll, in every run with the same seed, and turning quirks off and on again
 * brings back the same ones.
 */
export class Quirks {
  #on: ReadonlySet<QuirkNameValue> = new Set();

  constructor(readonly seed: number) {}

  /** The quirks on for the whole simulator, in {@link QUIRK_NAMES} order. */
  get enabled(): QuirkNameValue[] {
    return QUIRK_NAMES.filter((name) => this.#on.has(name));
  }

  /** Turns quirks on or off. @throws {@link SimulatorError} `INVALID_SPEC` */
  set(input: unknown): QuirkNameValue[] {
    this.#on = new Set(parseQuirks(input));
    return this.enabled;
  }

  /**
   * The quirks a job shows. With `own` (the job's own list, from its spec) it shows one of
   * each listed group, whatever the simulator-wide setting; otherwise each group that is on
   * shows on about half the jobs, so documented and quirky bodies mix. `undefined` when
   * the job shows none.
   */
  forJob(id: string, own?: readonly QuirkNameValue[]): ReadonlySet<QuirkNameValue> | undefined {
    const pool: ReadonlySet<QuirkNameValue> = own ? new Set(own) : this.#on;
    if (pool.size === 0) return undefined;
    const random = createRandom(this.seed, `quirks/${id}`);
    const out = new Set<QuirkNameValue>();
    for (const group of GROUPS) {
      const applies = random();
      const pick = random();
      const candidates = group.filter((name) => pool.has(name));
      if (candidates.length === 0 || (!own && applies >= 0.5)) continue;
      out.add(candidates[Math.floor(pick * candidates.length)] ?? candidates[0]!);
    }
    return out.size > 0 ? out : undefined;
  }

  /**
   * An error body in one of the other shapes arcgis-rest-js reads, when `errorBodies` is on
   * and chosen for this path; otherwise the body as it was. Bodies that are not errors pass
   * through.
   */
  errorBody(body: unknown, path: string): unknown {
    if (!this.#on.has('errorBodies')) return body;
    const error = readError(body);
    if (!error) return body;
    const random = createRandom(this.seed, `errors/${path}/${error.code}`);
    if (random() >= 0.5) return body;
    const shape = ERROR_SHAPES[Math.floor(random() * ERROR_SHAPES.length)] ?? 'noCode';
    return errorInShape(error, shape);
  }
}

interface ReadError {
  readonly code: number;
  readonly message: string;
  readonly details: readonly string[];
}

/** Reads a simulator error body of format A or B. */
function readError(body: unknown): ReadError | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const a = b.error as { code?: unknown; message?: unknown; details?: unknown } | undefined;
  if (a && typeof a.code === 'number' && typeof a.message === 'string')
    return {
      code: a.code,
      message: a.message,
      details: Array.isArray(a.details) ? (a.details as string[]) : [],
    };
  if (b.status === 'error' && typeof b.code === 'number' && Array.isArray(b.messages)) {
    const messages = b.messages as string[];
    return { code: b.code, message: messages[0] ?? 'Error.', details: messages.slice(1) };
  }
  return undefined;
}

function errorInShape(error: ReadError, shape: (typeof ERROR_SHAPES)[number]): unknown {
  switch (shape) {
    case 'noCode':
      return { error: { message: error.message, details: error.details } };
    case 'topLevelCode':
      return { code: error.code, message: error.message };
    case 'statusFailedJson':
      return {
        status: 'failed',
        statusMessage: JSON.stringify({ code: error.code, message: error.message }),
      };
    case 'statusFailedPlain':
      return { status: 'failed', statusMessage: error.message };
  }
}

/** `"1000"` → `1000`, `"true"` → `true`; anything else as it was. */
function typed(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (typeof value === 'string' && /^-?\d{1,15}(\.\d{1,6})?$/.test(value)) return Number(value);
  return value;
}

function typedRecord(record: unknown): unknown {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return record;
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, typed(v)]));
}

/** A service JSON with numbers and booleans where the documentation shows strings. */
export function typedService(service: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...service, properties: typedRecord(service.properties) };
  if (Array.isArray(service.extensions)) {
    out.extensions = service.extensions.map((e: unknown) =>
      typeof e === 'object' && e !== null
        ? {
            ...(e as Record<string, unknown>),
            enabled: typed((e as Record<string, unknown>).enabled),
            properties: typedRecord((e as Record<string, unknown>).properties),
          }
        : e,
    );
  }
  return out;
}

/** The spelling of a status under a job's quirks. */
export function spellStatus(status: string, quirks: ReadonlySet<QuirkNameValue>): string {
  const s = quirks.has('errorStatus') && status === 'FAILED' ? 'ERROR' : status;
  return quirks.has('lowerCaseStatus') ? s.toLowerCase() : s;
}
