import { describe, expect, it } from 'vitest';
import {
  failureReason,
  type Job,
  MAX_REASON_LENGTH,
  makeSnapshot,
  messageSeverity,
  normaliseMessages,
  parseJob,
  parseSnapshot,
  reasonFromResult,
  type Snapshot,
} from '../src/index.js';
import { completedJob } from './fixtures.js';

const job = (over: Record<string, unknown>): Job =>
  parseJob({ jobid: 'j1', status: 'FAILED', ...over });

const snapshotOf = (j: Job, warnings = []): Snapshot =>
  makeSnapshot({
    deployment: 'd',
    jobid: j.jobid,
    job: j,
    firstSeen: 1,
    lastPolled: 2,
    lastChanged: 2,
    warnings,
  });

describe('normaliseMessages', () => {
  it('reads strings, {type, description} objects and a mix into {text, severity?}', () => {
    expect(
      normaliseMessages([
        'Stopping the service.',
        { type: 'esriJobMessageTypeInformative', description: 'Step 1 of 2.' },
        { type: 'esriJobMessageTypeWarning', description: 'Slow disk.' },
        { type: 'esriJobMessageTypeError', description: 'No space\nleft on device.' },
      ]),
    ).toEqual([
      { text: 'Stopping the service.' },
      { text: 'Step 1 of 2.', severity: 'info' },
      { text: 'Slow disk.', severity: 'warning' },
      { text: 'No space left on device.', severity: 'error' },
    ]);
  });

  it('reads a single message, objects with message or text, and skips items without text', () => {
    expect(normaliseMessages('One.')).toEqual([{ text: 'One.' }]);
    expect(normaliseMessages([{ message: 'A.' }, { text: 'B.', type: 'error' }])).toEqual([
      { text: 'A.' },
      { text: 'B.', severity: 'error' },
    ]);
    expect(normaliseMessages(['', '  ', 42, null, {}, { description: 7 }, ['x']])).toEqual([]);
    expect(normaliseMessages(undefined)).toEqual([]);
    expect(normaliseMessages(null)).toEqual([]);
  });

  it.each([
    ['esriJobMessageTypeError', 'error'],
    ['esriJobMessageTypeAbort', 'error'],
    ['esriJobMessageTypeWarning', 'warning'],
    ['esriJobMessageTypeProcessStart', 'info'],
    ['ERROR', 'error'],
    ['warning', 'warning'],
    ['info', 'info'],
    ['debug', undefined],
    [42, undefined],
  ])('reads the severity of type %j as %j', (type, severity) => {
    expect(messageSeverity(type)).toBe(severity);
  });
});

describe('failureReason', () => {
  it('comes from the messages, the error ones first', () => {
    expect(
      failureReason(
        job({
          messages: [
            { type: 'esriJobMessageTypeInformative', description: 'Started.' },
            { type: 'esriJobMessageTypeError', description: 'Disk full.' },
            { type: 'esriJobMessageTypeError', description: 'Rolled back' },
          ],
        }),
      ),
    ).toBe('Disk full. Rolled back');
    expect(failureReason(job({ messages: ['Could not start', 'see the logs'] }))).toBe(
      'Could not start; see the logs',
    );
  });

  it.each([
    ['a string', 'Service failed to start.', 'Service failed to start.'],
    ['{messages}', { messages: ['Bad JSON.', 'Nothing changed.'] }, 'Bad JSON. Nothing changed.'],
    [
      '{error: {message}}',
      { error: { code: 500, message: 'Store unreachable.' } },
      'Store unreachable.',
    ],
    ['{error: string}', { error: 'Timeout waiting for pods.' }, 'Timeout waiting for pods.'],
    [
      '{status: "error", messages}',
      { status: 'error', messages: ['Quota exceeded.'] },
      'Quota exceeded.',
    ],
    ['{message}', { message: 'Not enough memory.' }, 'Not enough memory.'],
  ])('comes from result when there are no messages: %s', (_name, result, reason) => {
    expect(failureReason(job({ result }))).toBe(reason);
    expect(reasonFromResult(result)).toBe(reason);
  });

  it('is absent when the job says nothing, or did not fail', () => {
    expect(failureReason(job({}))).toBeUndefined();
    expect(failureReason(job({ result: null, messages: [] }))).toBeUndefined();
    expect(failureReason(job({ result: { service: { serviceName: 'S' } } }))).toBeUndefined();
    expect(failureReason(job({ status: 'COMPLETED', messages: ['Done.'] }))).toBeUndefined();
    expect(failureReason(job({ status: 'EXECUTING', messages: ['Working.'] }))).toBeUndefined();
  });

  it.each(['FAILED', 'TIMED OUT', 'CANCELLED', 'ERROR', 'failed', 'Timed Out'])(
    'is given for a job that ended %s',
    (status) => {
      expect(failureReason(job({ status, messages: ['Why.'] }))).toBe('Why.');
    },
  );

  it('is one line of at most MAX_REASON_LENGTH characters', () => {
    const reason = failureReason(job({ result: `line one\nline two ${'x'.repeat(2000)}` }));
    expect(reason).not.toMatch(/\n/);
    expect(reason).toHaveLength(MAX_REASON_LENGTH);
    expect(reason?.endsWith('…')).toBe(true);
  });
});

describe('snapshot messages, reason and warnings (additive fields)', () => {
  it('are absent for a job that has none, so older readers see what they saw', () => {
    const s = snapshotOf(parseJob(completedJob()));
    expect(s).not.toHaveProperty('messages');
    expect(s).not.toHaveProperty('reason');
    expect(s).not.toHaveProperty('warnings');
  });

  it('carry the normalised messages and the reason of a failed job, and the warnings', () => {
    const failed = job({
      messages: ['Stopping.', { type: 'esriJobMessageTypeError', description: 'Port in use.' }],
    });
    const warnings = [{ pointer: '/starttime', expected: 'a number or null', found: '"x"' }];
    const s = snapshotOf(failed, warnings as never);
    expect(s.messages).toEqual([
      { text: 'Stopping.' },
      { text: 'Port in use.', severity: 'error' },
    ]);
    expect(s.reason).toBe('Port in use.');
    expect(s.warnings).toEqual(warnings);
    expect(parseSnapshot(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it('spell a known status canonically, and keep what the server sent in job.status', () => {
    const s = snapshotOf(job({ status: 'Error', result: 'Crashed.' }));
    expect(s).toMatchObject({
      status: 'ERROR',
      kind: 'terminal',
      outcome: 'failed',
      terminal: true,
      reason: 'Crashed.',
    });
    expect(s.job?.status).toBe('Error');
    expect(snapshotOf(job({ status: 'QUEUED' })).status).toBe('QUEUED');
  });

  it("checks the job's result as an object, a string or null, not its content again", () => {
    const s = snapshotOf(job({ status: 'COMPLETED' }));
    const odd = { ...s, job: { ...s.job, result: { service: 'not a service', stages: 5 } } };
    expect(parseSnapshot(odd).job?.result).toEqual({ service: 'not a service', stages: 5 });
    expect(() => parseSnapshot({ ...s, job: { ...s.job, result: 42 } })).toThrow(
      /snapshot\.job\.result: expected an object or a string or null, got 42/,
    );
    expect(() => parseSnapshot({ ...s, job: { ...s.job, jobid: '../x' } })).toThrow(/job\.jobid/);
  });

  it('a snapshot of the earlier version (none of the three fields) still parses', () => {
    const { messages: _m, reason: _r, warnings: _w, ...old } = snapshotOf(job({ messages: ['x'] }));
    expect(parseSnapshot(old).messages).toBeUndefined();
  });
});
