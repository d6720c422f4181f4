import { makeSnapshot, type SourceJob } from '@jobwatch/schema';
import { describe, expect, it } from 'vitest';
import {
  describeEta,
  describeOperation,
  describeProgress,
  describeRow,
  elapsedMs,
  jsonRenderer,
  liveRenderer,
  plainRenderer,
} from '../src/cli/render.js';
import { job } from './helpers.js';

const at = 1_700_000_090_000;
const running = makeSnapshot({
  deployment: 'default',
  jobid: 'j1',
  job: job('j1', 'EXECUTING', at),
  firstSeen: at,
  lastPolled: at,
  lastChanged: at,
});
const done = makeSnapshot({
  deployment: 'default',
  jobid: 'j1',
  job: job('j1', 'COMPLETED', 1_700_000_125_000, {
    operationURI: '/arcgis/admin/system/disasterrecovery/stores/main/backups/create',
  }),
  firstSeen: at,
  lastPolled: at,
  lastChanged: at,
});

function sink() {
  const out: string[] = [];
  return { out, write: (s: string) => out.push(s) };
}

describe('eta on the live line', () => {
  const eta = {
    middle: at + 40_000,
    low: at + 35_000,
    high: at + 60_000,
    basis: 23,
    overdue: false,
  };

  it('says how long is likely left, with its spread and its basis', () => {
    expect(describeEta(eta, at)).toBe('about 40 s left (usually 35–60 s, from 23 earlier)');
    expect(describeRow({ jobid: 'j1', snapshot: { ...running, eta } }, at)).toBe(
      'j1  EXECUTING     1m30s  edit Roads.MapServer  about 40 s left (usually 35–60 s, from 23 earlier)',
    );
    const long = { ...eta, middle: at + 720_000, low: at + 50_000, high: at + 1_500_000 };
    expect(describeEta(long, at)).toBe('about 12 min left (usually 50 s–25 min, from 23 earlier)');
  });

  it('counts down between snapshots, and never shows a negative time', () => {
    expect(describeEta(eta, at + 20_000)).toBe(
      'about 20 s left (usually 15–40 s, from 23 earlier)',
    );
    expect(describeEta(eta, at + 50_000)).toBe('ending about now (from 23 earlier)');
    expect(describeEta(eta, at + 61_000)).toBe('longer than usual (from 23 earlier)');
    expect(describeEta({ ...eta, overdue: true }, at)).toBe('longer than usual (from 23 earlier)');
  });

  it('shows nothing without a basis, nor once the job has ended', () => {
    expect(describeRow({ jobid: 'j1', snapshot: running }, at)).not.toMatch(/left|usual/);
    expect(describeRow({ jobid: 'j1', snapshot: { ...done, eta } }, at)).not.toMatch(/left|usual/);
  });
});

describe('wait output', () => {
  it('describes operations and elapsed time', () => {
    expect(describeOperation(running)).toBe('edit Roads.MapServer');
    expect(describeOperation(done)).toBe('backup create (main)');
    expect(elapsedMs(running, 1_700_000_100_000)).toBe(100_000);
    expect(elapsedMs(done, 9e12)).toBe(125_000);
    expect(describeRow({ jobid: 'j1', snapshot: running }, 1_700_000_100_000)).toBe(
      'j1  EXECUTING     1m40s  edit Roads.MapServer',
    );
    expect(
      describeRow({ jobid: 'j1', error: { code: 'JOB_NOT_FOUND', message: 'not found' } }, 0),
    ).toBe('j1  ERROR  not found (JOB_NOT_FOUND)');
  });

  it('redraws one line per job in place on a terminal', () => {
    const s = sink();
    const r = liveRenderer(s, ['j1', 'j2'], () => 1_700_000_100_000);
    r.update({ jobid: 'j1', snapshot: running });
    r.update({ jobid: 'j1', snapshot: done });
    expect(s.out[0]).not.toContain('\x1b[2A');
    expect(s.out[0]?.match(/\n/g)).toHaveLength(2);
    expect(s.out[1]?.startsWith('\x1b[2A')).toBe(true);
    expect(s.out[1]).toContain('j1  COMPLETED');
    expect(s.out[1]).toContain('j2  WAITING');
  });

  it('prints plain lines when piped and JSON lines with --json', () => {
    const plain = sink();
    plainRenderer(plain, () => 0).update({ jobid: 'j1', snapshot: done });
    expect(plain.out).toEqual(['j1  COMPLETED      2m5s  backup create (main)\n']);
    const json = sink();
    jsonRenderer(json).update({ jobid: 'j1', snapshot: done });
    expect(JSON.parse(json.out[0] ?? '')).toEqual(done);
  });
});

describe('progress on the live line', () => {
  const ref = {
    source: 'server' as const,
    adminUrl: 'https://h/arcgis/admin',
    jobid: 'j9',
  };
  const serverJob: SourceJob = {
    jobid: 'j9',
    status: 'EXECUTING',
    totalsteps: 4,
    currentstep: 3,
    stepInfo: [
      'Stopping the service',
      'Saving edits to the configuration store',
      'Starting the service',
    ],
  };

  it('shows the percentage, the step and what it is doing, where the source tells', () => {
    const s = makeSnapshot({
      deployment: 'default',
      jobid: 'j9',
      job: serverJob,
      firstSeen: at - 5_000,
      lastPolled: at,
      lastChanged: at,
      ref,
    });
    expect(describeProgress(s)).toBe('75% step 3/4 Starting the service');
    expect(describeRow({ jobid: 'j9', snapshot: s }, at)).toBe(
      'j9  EXECUTING        5s  75% step 3/4 Starting the service',
    );
  });

  it('shows nothing of progress for an admin job, or once a job has ended', () => {
    expect(describeProgress(running)).toBe('');
    const ended = makeSnapshot({
      deployment: 'default',
      jobid: 'j9',
      job: { ...serverJob, status: 'COMPLETED', currentstep: 4 } as SourceJob,
      firstSeen: at,
      lastPolled: at,
      lastChanged: at,
      ref,
    });
    expect(describeRow({ jobid: 'j9', snapshot: ended }, at)).not.toMatch(/%/);
  });
});
