/**
 * A job's messages and why it ended, read from whatever shapes a server sends: messages as
 * strings, as `{type, description}` objects or a mix; failure details in `result` as a
 * string, `{messages}`, `{error: {message}}` or `{status: "error", messages}`.
 */
import type { Job, JobResult } from './schemas/bodies.js';
import type { JobMessage } from './schemas/snapshot.js';
import { jobOutcome } from './status.js';

/** The severity of a normalised message. */
export type MessageSeverity = NonNullable<JobMessage['severity']>;

/** The longest reason, in characters; a longer one ends in `…`. */
export const MAX_REASON_LENGTH = 500;

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * The severity named by a message object's `type`: `esriJobMessageTypeError` (or `Abort`) →
 * `error`, `…Warning` → `warning`, any other `esriJobMessageType…` → `info`; the plain words
 * (`error`, `warning`, `info`…) too. `undefined` for anything else.
 */
export function messageSeverity(type: unknown): MessageSeverity | undefined {
  if (typeof type !== 'string') return undefined;
  const t = type.toLowerCase();
  if (/error|abort|fail|fatal|severe/.test(t)) return 'error';
  if (t.includes('warn')) return 'warning';
  if (t.startsWith('esrijobmessagetype') || t.startsWith('info')) return 'info';
  return undefined;
}

function textOf(item: unknown): string | undefined {
  if (typeof item === 'string') return oneLine(item) || undefined;
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const o = item as Record<string, unknown>;
  for (const key of ['description', 'message', 'text']) {
    const value = o[key];
    if (typeof value === 'string' && oneLine(value)) return oneLine(value);
  }
  return undefined;
}

/**
 * Messages normalised to `{text, severity?}`, one line each, from a list of strings,
 * `{type, description}` objects (or `{message}`/`{text}`), a mix, or a single one of them.
 * Items without any text are left out. Never throws.
 *
 * @example
 * ```ts
 * normaliseMessages(['Stopped.', { type: 'esriJobMessageTypeError', description: 'No space left.' }]);
 * // [{ text: 'Stopped.' }, { text: 'No space left.', severity: 'error' }]
 * ```
 */
export function normaliseMessages(messages: unknown): JobMessage[] {
  if (messages === undefined || messages === null) return [];
  const items = Array.isArray(messages) ? messages : [messages];
  const out: JobMessage[] = [];
  for (const item of items) {
    const text = textOf(item);
    if (text === undefined) continue;
    const severity =
      typeof item === 'object' && item !== null
        ? messageSeverity((item as { type?: unknown }).type)
        : undefined;
    out.push(severity === undefined ? { text } : { text, severity });
  }
  return out;
}

/** A job's own messages, normalised (see {@link normaliseMessages}). */
export function jobMessages(job: Pick<Job, 'messages'>): JobMessage[] {
  return normaliseMessages(job.messages);
}

/** Joins messages into one line: the errors if there are any, else the warnings, else all. */
function joinMessages(messages: readonly JobMessage[]): string | undefined {
  if (messages.length === 0) return undefined;
  const errors = messages.filter((m) => m.severity === 'error');
  const warnings = messages.filter((m) => m.severity === 'warning');
  const chosen = errors.length ? errors : warnings.length ? warnings : messages;
  let out = '';
  for (const { text } of chosen) {
    if (out === '') out = text;
    else out += /[.!?:;]$/.test(out) ? ` ${text}` : `; ${text}`;
  }
  return out || undefined;
}

/** A one-line reason read from a `result` in any of the shapes servers use, or `undefined`. */
export function reasonFromResult(result: unknown): string | undefined {
  if (typeof result === 'string') return oneLine(result) || undefined;
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return undefined;
  const r = result as Record<string, unknown>;
  const fromMessages = joinMessages(normaliseMessages(r.messages));
  if (fromMessages) return fromMessages;
  const error = r.error;
  if (typeof error === 'string' && oneLine(error)) return oneLine(error);
  const fromError = textOf(error);
  if (fromError) return fromError;
  if (typeof error === 'object' && error !== null) {
    const details = joinMessages(normaliseMessages((error as { details?: unknown }).details));
    if (details) return details;
  }
  for (const key of ['message', 'statusMessage', 'description']) {
    const value = r[key];
    if (typeof value === 'string' && oneLine(value)) return oneLine(value);
  }
  return undefined;
}

function cut(text: string): string {
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH - 1)}…` : text;
}

/**
 * Why a job that failed (FAILED, TIMED OUT, ERROR) or was cancelled ended, in one line:
 * from its messages (the error ones first), else from its `result` — a string,
 * `{messages}`, `{error: {message}}` or `{status: "error", messages}`. `undefined` for a job
 * that has not failed or that says nothing; never throws.
 *
 * @example
 * ```ts
 * failureReason({ jobid, status: 'FAILED', result: { error: { message: 'Disk full.' } } }); // 'Disk full.'
 * ```
 */
export function failureReason(
  job: Pick<Job, 'status' | 'messages' | 'result'>,
): string | undefined {
  const outcome = jobOutcome(job.status);
  if (outcome !== 'failed' && outcome !== 'cancelled') return undefined;
  const reason = joinMessages(jobMessages(job)) ?? reasonFromResult(job.result);
  return reason === undefined ? undefined : cut(reason);
}

/**
 * A job's `result` when it is an object (`{service}`, `{stages}`, …), or `undefined` when it
 * is missing, `null` or a string (a failure's text: see {@link failureReason}).
 *
 * @example
 * ```ts
 * const service = resultObject(job)?.service; // the edited service, when there is one
 * ```
 */
export function resultObject(job: Pick<Job, 'result'>): JobResult | undefined {
  const { result } = job;
  return typeof result === 'object' && result !== null ? result : undefined;
}
