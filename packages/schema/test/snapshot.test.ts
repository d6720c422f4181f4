import { describe, expect, it } from 'vitest';
import {
  type Job,
  makeSnapshot,
  parseJob,
  parseSnapshot,
  type Snapshot,
  type SnapshotInit,
  safeParseSnapshot,
  visiblyDiffers,
} from '../src/index.js';
import { completedJob, fixture } from './fixtures.js';

const executing = (): Job => parseJob(fixture('job-executing'));
const base = (over: Partial<SnapshotInit> = {}): Snapshot =>
  makeSnapshot({
    deployment: 'default',
    jobid: 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d',
    job: executing(),
    firstSeen: 1000,
    lastPolled: 2000,
    lastChanged: 1500,
    ...over,
  });

describe('makeSnapshot', () => {
  it('derives status, kind, outcome and terminal from a running job', () => {
    expect(base()).toEqual({
      version: 1,
      deployment: 'default',
      jobid: 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d',
      status: 'EXECUTING',
      kind: 'passing',
      outcome: 'none',
      terminal: false,
      job: executing(),
      firstSeen: 1000,
      lastPolled: 2000,
      lastChanged: 1500,
      stale: false,
      progress: null,
    });
  });

  it('is pending before the first body', () => {
    const s = base({ job: null, lastPolled: null, stale: true });
    expect(s).toMatchObject({ status: null, kind: 'pending', outcome: 'none', terminal: false });
    expect(s.stale).toBe(true);
  });

  it('is terminal and succeeded for a completed job', () => {
    expect(base({ job: parseJob(completedJob()) })).toMatchObject({
      status: 'COMPLETED',
      kind: 'terminal',
      outcome: 'succeeded',
      terminal: true,
    });
  });

  it('keeps an unknown status, not terminal', () => {
    const job = { ...executing(), status: 'PAUSED' };
    expect(base({ job })).toMatchObject({ status: 'PAUSED', kind: 'unknown', terminal: false });
  });

  it('adds trouble only when there is some', () => {
    expect('trouble' in base()).toBe(false);
    const trouble = { code: 'TRANSPORT', message: 'HTTP 502', since: 1800, attempts: 2 };
    expect(base({ stale: true, trouble }).trouble).toEqual(trouble);
  });

  it('adds an eta only when there is a basis, and it validates', () => {
    expect('eta' in base()).toBe(false);
    const eta = {
      middle: 42_000,
      low: 37_000,
      high: 62_000,
      basis: 23,
      overdue: false,
    };
    const s = base({ eta });
    expect(s.eta).toEqual(eta);
    expect(parseSnapshot(JSON.parse(JSON.stringify(s)))).toEqual(s);
    const bad = { ...s, eta: { ...eta, middle: 'soon' } };
    expect(safeParseSnapshot(bad).success).toBe(false);
    expect(() => parseSnapshot(bad)).toThrow(/snapshot\.eta\.middle: expected a number/);
  });

  it('makes snapshots that validate, also after a trip through JSON', () => {
    for (const s of [
      base(),
      base({ job: null, lastPolled: null }),
      base({ job: parseJob(completedJob()) }),
    ]) {
      expect(parseSnapshot(JSON.parse(JSON.stringify(s)))).toEqual(s);
    }
  });

  it('rejects a snapshot with a bad kind or a job that is not a job', () => {
    const bad = { ...base(), kind: 'done' };
    const r = safeParseSnapshot(bad);
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues[0]?.path).toBe('snapshot.kind');
    const badJob = safeParseSnapshot({ ...base(), job: { jobid: 'j1' } });
    expect(badJob.success).toBe(false);
  });
});

describe('visiblyDiffers', () => {
  const a = base();

  it('is true when there is nothing before', () => {
    expect(visiblyDiffers(undefined, a)).toBe(true);
  });

  it('is false for the same snapshot, or one only polled later', () => {
    expect(visiblyDiffers(a, base())).toBe(false);
    expect(visiblyDiffers(a, base({ lastPolled: 9999 }))).toBe(false);
  });

  it('is true when the status changes', () => {
    expect(visiblyDiffers(a, base({ job: parseJob(completedJob()) }))).toBe(true);
  });

  it('is true when staleness changes either way', () => {
    const stale = base({ stale: true });
    expect(visiblyDiffers(a, stale)).toBe(true);
    expect(visiblyDiffers(stale, a)).toBe(true);
  });

  it('is true when updatedtime or endtime changes under the same status', () => {
    expect(visiblyDiffers(a, base({ job: { ...executing(), updatedtime: 1635961542999 } }))).toBe(
      true,
    );
    expect(visiblyDiffers(a, base({ job: { ...executing(), endtime: 1 } }))).toBe(true);
  });

  it('is true when a body appears or disappears', () => {
    const none = base({ job: null });
    expect(visiblyDiffers(none, a)).toBe(true);
    expect(visiblyDiffers(a, none)).toBe(true);
  });
});
