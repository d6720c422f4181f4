import { parseQuirks } from './quirks.js';

/** The longest job a spec may ask for: thirty days. */
export const MAX_DURATION_MS = 30 * 24 * 60 * 60_000;

/** Rejects a spec with a reason; each job source prefixes its own name. */
export type RejectSpec = (why: string) => never;

/** Checks a spec's `durationMs`: a number from 0 to {@link MAX_DURATION_MS}. */
export function checkDuration(durationMs: unknown, bad: RejectSpec): void {
  if (
    typeof durationMs !== 'number' ||
    !Number.isFinite(durationMs) ||
    durationMs < 0 ||
    durationMs > MAX_DURATION_MS
  )
    bad(`durationMs must be a number from 0 to ${MAX_DURATION_MS}`);
}

/** Checks a spec's optional `quirks`, rejecting with the reason the quirks setting gives. */
export function checkQuirks(quirks: unknown, bad: RejectSpec): void {
  if (quirks === undefined) return;
  try {
    parseQuirks(quirks);
  } catch (error) {
    bad((error as Error).message);
  }
}
