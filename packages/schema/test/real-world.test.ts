/**
 * One test per fact about admin jobs in `shared/reference/real-world.md`: what real servers
 * and Esri's own clients show beyond the documentation. Each test names its fact.
 */
import { describe, expect, it } from 'vitest';
import {
  isExtensionEnabled,
  jobOutcome,
  makeSnapshot,
  parseOperationUri,
  readErrorBody,
  resultObject,
  safeParseJob,
  statusKind,
} from '../src/index.js';
import { completedJob } from './fixtures.js';

const JOBID = 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d';

function read(body: Record<string, unknown>) {
  const job = safeParseJob({ jobid: JOBID, ...body });
  if (!job.success) throw job.error;
  const snapshot = makeSnapshot({
    deployment: 'd',
    jobid: JOBID,
    job: job.data,
    firstSeen: 1,
    lastPolled: 1,
    lastChanged: 1,
    warnings: job.warnings,
  });
  return { job: job.data, warnings: job.warnings, snapshot };
}

describe('real-world.md: facts about admin jobs', () => {
  describe('fact: on FAILED, CANCELLED and TIMED OUT the CLI reads top-level messages, strings or {type, description} objects', () => {
    it.each([
      ['strings', ['Backup failed.', 'Store unreachable.']],
      [
        '{type, description} objects',
        [
          { type: 'esriJobMessageTypeInformative', description: 'Backup started.' },
          { type: 'esriJobMessageTypeError', description: 'Store unreachable.' },
        ],
      ],
      [
        'a mix',
        ['Backup started.', { type: 'esriJobMessageTypeError', description: 'Store unreachable.' }],
      ],
    ])(
      'messages as %s: no warning, normalised, and the reason read from them',
      (_name, messages) => {
        for (const status of ['FAILED', 'CANCELLED', 'TIMED OUT']) {
          const { warnings, snapshot } = read({ status, messages });
          expect(warnings).toEqual([]);
          expect(snapshot.messages?.map((m) => m.text)).toContain('Store unreachable.');
          expect(snapshot.reason).toMatch(/Store unreachable\.$/);
        }
      },
    );
  });

  describe('fact: failure details are in result, whose shape on failure is never shown (object, string or absent)', () => {
    it.each([
      ['a string', 'Service failed to start.', 'Service failed to start.'],
      ['{messages}', { messages: ['Service failed to start.'] }, 'Service failed to start.'],
      [
        '{error: {message}}',
        { error: { message: 'Service failed to start.' } },
        'Service failed to start.',
      ],
      [
        '{status: "error", messages}',
        { status: 'error', messages: ['Service failed to start.'] },
        'Service failed to start.',
      ],
      ['null', null, undefined],
      ['absent', undefined, undefined],
    ])(
      'result as %s: read without a warning, the reason taken from it',
      (_name, result, reason) => {
        const { warnings, snapshot } = read({
          status: 'FAILED',
          ...(result === undefined ? {} : { result }),
        });
        expect(warnings).toEqual([]);
        expect(snapshot.outcome).toBe('failed');
        expect(snapshot.reason).toBe(reason);
      },
    );
  });

  it('fact: a completed backup job on 12.0 has no result at all: it is read as completed, without a warning', () => {
    const { job, warnings, snapshot } = read({
      status: 'COMPLETED',
      operationURI: '/arcgis/admin/system/disasterrecovery/stores/store1/backups/create',
      starttime: 1700000000000,
      endtime: 1700000600000,
      updatedtime: 1700000600000,
    });
    expect(warnings).toEqual([]);
    expect(resultObject(job)).toBeUndefined();
    expect(snapshot).toMatchObject({ status: 'COMPLETED', outcome: 'succeeded', terminal: true });
  });

  it('fact: on 11.4 a backup may read COMPLETED while it still runs: jobwatch reports what the job resource says and names the operation a backup, for a reader to confirm with the disaster-recovery status', () => {
    const { snapshot } = read({
      status: 'COMPLETED',
      operationURI: '/arcgis/admin/system/disasterrecovery/stores/store1/backups/create',
    });
    expect(snapshot.outcome).toBe('succeeded');
    expect(parseOperationUri(snapshot.job?.operationURI)).toMatchObject({
      target: 'backup',
      operation: 'create',
      store: 'store1',
    });
  });

  it('fact: the Python API stops on ERROR as on FAILED, and compares statuses without regard to case', () => {
    for (const status of ['ERROR', 'Error', 'error']) {
      const { warnings, snapshot } = read({ status, result: 'Pod evicted.' });
      expect(warnings).toEqual([]);
      expect(snapshot).toMatchObject({
        status: 'ERROR',
        kind: 'terminal',
        outcome: 'failed',
        reason: 'Pod evicted.',
      });
    }
    for (const [status, outcome] of [
      ['completed', 'succeeded'],
      ['Failed', 'failed'],
      ['cancelled', 'cancelled'],
      ['timed out', 'failed'],
    ] as const) {
      expect(statusKind(status)).toBe('terminal');
      expect(jobOutcome(status)).toBe(outcome);
      expect(read({ status }).warnings).toEqual([]);
    }
    expect(statusKind('executing')).toBe('passing');
  });

  it('fact: username may be null; username, operationURI and the timestamps are not promised; a SUBMITTED body was never shown', () => {
    const minimal = read({ status: 'SUBMITTED' });
    expect(minimal.warnings).toEqual([]);
    expect(minimal.snapshot).toMatchObject({ status: 'SUBMITTED', kind: 'passing' });
    const anonymous = read({
      status: 'EXECUTING',
      username: null,
      operationURI: null,
      starttime: null,
      endtime: null,
      updatedtime: null,
    });
    expect(anonymous.warnings).toEqual([]);
    expect(anonymous.job.username).toBeNull();
  });

  it('fact: result.service may carry numeric or boolean properties, and a type or extensions not as the schema expects', () => {
    const body = completedJob();
    body.result.service.properties.maxRecordCount = 1000;
    body.result.service.properties.isCached = false;
    body.result.service.type = 42;
    body.result.service.extensions = { typeName: 'WMSServer', enabled: true };
    const { job, warnings, snapshot } = read(body);
    const service = resultObject(job)?.service;
    expect(service?.properties?.maxRecordCount).toBe(1000);
    expect(service?.properties?.isCached).toBe(false);
    expect(service?.extensions?.map(isExtensionEnabled)).toEqual([true]);
    expect(warnings.map((w) => w.pointer).sort()).toEqual([
      '/result/service/extensions',
      '/result/service/type',
    ]);
    expect(snapshot).toMatchObject({ status: 'COMPLETED', outcome: 'succeeded' });
  });

  it('fact: arcgis-rest-js treats as errors an error member (code or not), a top-level code ≥ 400 and status "failed" with a JSON-text statusMessage', () => {
    expect(readErrorBody({ error: { message: 'Invalid token.' } })).toMatchObject({
      code: undefined,
      message: 'Invalid token.',
    });
    expect(readErrorBody({ code: 403, message: 'Forbidden.' })).toMatchObject({
      code: 403,
      message: 'Forbidden.',
    });
    expect(
      readErrorBody({ status: 'failed', statusMessage: '{"code":500,"message":"Export failed."}' }),
    ).toMatchObject({ code: 500, message: 'Export failed.' });
  });
});
