import { usageError } from './errors.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/**
 * Reads a duration written for people: `90s`, `30m`, `1h30m`, `500ms`, `2d`.
 *
 * A bare number is refused on purpose (`--timeout 90` could mean seconds or
 * milliseconds): write the unit.
 *
 * @returns milliseconds, an integer above zero.
 * @throws {@link DaemonError} (`USAGE`) naming the flag.
 * @example
 * ```ts
 * parseDuration('1h30m'); // 5_400_000
 * ```
 */
export function parseDuration(input: string, name = 'duration'): number {
  const text = input.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) {
    throw usageError(`${name}: "${input}" has no unit; write for example 90s, 30m or 1h30m`);
  }
  let total = 0;
  let at = 0;
  PART.lastIndex = 0;
  for (let match = PART.exec(text); match; match = PART.exec(text)) {
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
    at = PART.lastIndex;
  }
  if (text.length === 0 || at !== text.length || total <= 0 || !Number.isFinite(total)) {
    throw usageError(`${name}: "${input}" is not a duration; write for example 90s, 30m or 1h30m`);
  }
  return Math.round(total);
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
