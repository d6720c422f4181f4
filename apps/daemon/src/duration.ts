import { usageError } from './errors.js';

const DAY = 86_400_000;
const UNIT_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: DAY,
  w: 7 * DAY,
  y: 365 * DAY,
} as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/gy;

/** The longest duration {@link parseDuration} takes: 1000 years (of 365 days). */
export const MAX_DURATION_MS = 1000 * UNIT_MS.y;

/** Bounds of one duration setting, in ms; both ends included. */
export interface DurationBounds {
  readonly min?: number;
  readonly max?: number;
}

const shown = (input: string) =>
  JSON.stringify(input.length > 40 ? `${input.slice(0, 37)}...` : input);

/**
 * Reads a duration written for people: `500ms`, `90s`, `30m`, `1h30m`, `2d`, `3w`, `1y`
 * (a year is 365 days).
 *
 * A bare number is refused on purpose (`--timeout 90` could mean seconds or
 * milliseconds): write the unit. So is anything under 1 ms or over 1000 years, and anything
 * outside `bounds`, each with a message that names the setting.
 *
 * @returns milliseconds, an integer from 1 to {@link MAX_DURATION_MS}.
 * @throws {@link DaemonError} (`USAGE`) naming the setting.
 * @example
 * ```ts
 * parseDuration('1h30m'); // 5_400_000
 * parseDuration('25d', 'events.heartbeat', { max: 3_600_000 }); // throws: expected at most 1h
 * ```
 */
export function parseDuration(
  input: string,
  name = 'duration',
  bounds: DurationBounds = {},
): number {
  const text = input.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) {
    throw usageError(`${name}: ${shown(input)} has no unit; write for example 90s, 30m or 1h30m`);
  }
  let total = 0;
  let at = 0;
  PART.lastIndex = 0;
  for (let match = PART.exec(text); match; match = PART.exec(text)) {
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
    at = PART.lastIndex;
  }
  if (text.length === 0 || at !== text.length || !Number.isFinite(total)) {
    throw usageError(
      `${name}: ${shown(input)} is not a duration; write for example 90s, 30m or 1h30m`,
    );
  }
  const ms = Math.round(total);
  if (ms < 1) throw usageError(`${name}: ${shown(input)} is shorter than 1ms`);
  if (ms > MAX_DURATION_MS)
    throw usageError(`${name}: ${shown(input)} is longer than 1000y, the longest jobwatch takes`);
  const { min, max } = bounds;
  if ((min !== undefined && ms < min) || (max !== undefined && ms > max)) {
    const range =
      min !== undefined && max !== undefined
        ? `between ${formatDuration(min)} and ${formatDuration(max)}`
        : min !== undefined
          ? `at least ${formatDuration(min)}`
          : `at most ${formatDuration(max as number)}`;
    throw usageError(`${name}: expected ${range}, got ${shown(input)}`);
  }
  return ms;
}

/** Writes milliseconds the way {@link parseDuration} reads them, to the second: `1h2m3s`, `45s`, `0s`. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}
