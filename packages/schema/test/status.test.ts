import { describe, expect, it } from 'vitest';
import {
  canonicalStatus,
  isJobId,
  isKnownJobStatus,
  isPassingStatus,
  isTerminalStatus,
  JobIdSchema,
  type JobOutcome,
  JobStatus,
  type JobStatusKind,
  JobStatusSchema,
  jobOutcome,
  KNOWN_JOB_STATUSES,
  type KnownJobStatus,
  statusKind,
  TERMINAL_JOB_STATUSES,
} from '../src/index.js';

/** The meaning of every known status, written out once by hand (design.md, "Status meaning"). */
const meaning: Record<KnownJobStatus, { kind: JobStatusKind; outcome: JobOutcome }> = {
  SUBMITTED: { kind: 'passing', outcome: 'none' },
  EXECUTING: { kind: 'passing', outcome: 'none' },
  CANCELLING: { kind: 'passing', outcome: 'none' },
  UNAVAILABLE: { kind: 'passing', outcome: 'none' },
  COMPLETED: { kind: 'terminal', outcome: 'succeeded' },
  FAILED: { kind: 'terminal', outcome: 'failed' },
  'TIMED OUT': { kind: 'terminal', outcome: 'failed' },
  ERROR: { kind: 'terminal', outcome: 'failed' },
  CANCELLED: { kind: 'terminal', outcome: 'cancelled' },
};

describe('status meaning', () => {
  it('knows exactly the nine statuses, TIMED OUT with its space', () => {
    expect([...KNOWN_JOB_STATUSES].sort()).toEqual(Object.keys(meaning).sort());
    expect(Object.values(JobStatus).sort()).toEqual(Object.keys(meaning).sort());
    expect(JobStatus.TIMED_OUT).toBe('TIMED OUT');
  });

  it('lists the terminal statuses', () => {
    expect([...TERMINAL_JOB_STATUSES].sort()).toEqual([
      'CANCELLED',
      'COMPLETED',
      'ERROR',
      'FAILED',
      'TIMED OUT',
    ]);
  });

  it.each(Object.entries(meaning))('%s', (status, { kind, outcome }) => {
    expect(isKnownJobStatus(status)).toBe(true);
    expect(statusKind(status)).toBe(kind);
    expect(jobOutcome(status)).toBe(outcome);
    expect(isTerminalStatus(status)).toBe(kind === 'terminal');
    expect(isPassingStatus(status)).toBe(kind === 'passing');
    // An outcome exists exactly when the status is an end.
    expect(outcome !== 'none').toBe(kind === 'terminal');
  });

  it.each([
    ['completed', 'COMPLETED'],
    ['Completed', 'COMPLETED'],
    ['failed', 'FAILED'],
    ['Error', 'ERROR'],
    ['error', 'ERROR'],
    ['timed out', 'TIMED OUT'],
    ['Timed Out', 'TIMED OUT'],
    ['cancelled', 'CANCELLED'],
    ['executing', 'EXECUTING'],
    ['unavailable', 'UNAVAILABLE'],
  ] as const)('compares %j without regard to case: it is %s', (spelling, status) => {
    expect(canonicalStatus(spelling)).toBe(status);
    expect(isKnownJobStatus(spelling)).toBe(true);
    expect(statusKind(spelling)).toBe(meaning[status].kind);
    expect(jobOutcome(spelling)).toBe(meaning[status].outcome);
    expect(isTerminalStatus(spelling)).toBe(meaning[status].kind === 'terminal');
    expect(isPassingStatus(spelling)).toBe(meaning[status].kind === 'passing');
  });

  it.each([
    'QUEUED',
    ' COMPLETED',
    'TIMED_OUT',
    'TIMEDOUT',
    'esriJobSucceeded',
    '',
    'constructor',
    '__proto__',
  ])('treats %j as unknown: not an end, no outcome, keep watching', (status) => {
    expect(isKnownJobStatus(status)).toBe(false);
    expect(canonicalStatus(status)).toBeUndefined();
    expect(statusKind(status)).toBe('unknown');
    expect(jobOutcome(status)).toBe('none');
    expect(isTerminalStatus(status)).toBe(false);
    expect(isPassingStatus(status)).toBe(false);
  });

  it('exposes frozen lists', () => {
    expect(Object.isFrozen(KNOWN_JOB_STATUSES)).toBe(true);
    expect(Object.isFrozen(TERMINAL_JOB_STATUSES)).toBe(true);
  });
});

it("the status schema's description names every known status, in order", () => {
  // Spelled out in bodies.ts so that building the schema calls nothing (it is tree-shaken).
  expect((JobStatusSchema as { description?: string }).description).toBe(
    `A job status, compared without regard to case. Known values: ${KNOWN_JOB_STATUSES.join(', ')}; any other string is kept verbatim.`,
  );
});

it("the job id schema's pattern accepts exactly what isJobId accepts", () => {
  const pattern = new RegExp((JobIdSchema as unknown as { pattern: string }).pattern);
  for (const id of ['j1', 'a'.repeat(128), 'a'.repeat(129), '', 'j1/x', 'j.1', 'jé', 'J_-9']) {
    expect(pattern.test(id)).toBe(isJobId(id));
  }
});
