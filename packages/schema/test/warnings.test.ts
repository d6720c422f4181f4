import { describe, expect, it } from 'vitest';
import {
  type Job,
  parseJobHandle,
  parseJobList,
  parseService,
  parseServiceList,
  parseSiteInfo,
  type SchemaWarning,
  safeParseJob,
  safeParseJobHandle,
  safeParseJobList,
  safeParseService,
} from '../src/index.js';
import { completedJob, fixture } from './fixtures.js';

/** Parses a job that must parse, and returns it with its warnings. */
function read(body: unknown): { job: Job; warnings: readonly SchemaWarning[] } {
  const result = safeParseJob(body);
  if (!result.success) throw result.error;
  return { job: result.data, warnings: result.warnings };
}

describe('a body in its documented shape', () => {
  it('parses without warnings, and is the input itself (nothing copied)', () => {
    const body = completedJob();
    const result = safeParseJob(body);
    expect(result).toMatchObject({ success: true, warnings: [] });
    if (result.success) expect(result.data).toBe(body);
  });
});

describe('job fields in another shape: kept or repaired, with a warning', () => {
  it('reads numeric strings where numbers are documented, as numbers', () => {
    const body = completedJob();
    body.starttime = '1700000000000';
    body.endtime = ' 0 ';
    body.updatedtime = '1.7e12';
    const { job, warnings } = read(body);
    expect([job.starttime, job.endtime, job.updatedtime]).toEqual([1700000000000, 0, 1.7e12]);
    expect(warnings).toEqual([
      { pointer: '/starttime', expected: 'a number or null', found: '"1700000000000"' },
      { pointer: '/endtime', expected: 'a number or null', found: '" 0 "' },
      { pointer: '/updatedtime', expected: 'a number or null', found: '"1.7e12"' },
    ]);
  });

  it('takes a value that cannot be read out of its typed place, and says what came', () => {
    const body = completedJob();
    body.starttime = 'yesterday';
    body.operationURI = { path: '/x' };
    body.username = ['admin'];
    const { job, warnings } = read(body);
    expect(job.starttime).toBeUndefined();
    expect(job.operationURI).toBeUndefined();
    expect(job.username).toBeUndefined();
    // Taken out of the body a reader stores or sends on, too.
    expect(JSON.parse(JSON.stringify(job))).not.toHaveProperty('username');
    expect(warnings).toEqual([
      { pointer: '/starttime', expected: 'a number or null', found: '"yesterday"' },
      { pointer: '/operationURI', expected: 'a string or null', found: '{"path":"/x"}' },
      { pointer: '/username', expected: 'a string or null', found: '["admin"]' },
    ]);
  });

  it('keeps everything else of the body as it came', () => {
    const body = completedJob();
    body.starttime = 'yesterday';
    body.extra = { nested: [1, 2] };
    const { job } = read(body);
    expect((job as Record<string, unknown>).extra).toEqual({ nested: [1, 2] });
    expect(job.result).toEqual(completedJob().result);
    expect(job.status).toBe('COMPLETED');
  });

  it('never changes its input', () => {
    const body = completedJob();
    body.starttime = '17';
    body.result.service.extensions[0].enabled = 1;
    const before = structuredClone(body);
    read(body);
    expect(body).toEqual(before);
  });

  it('repairs one field deep in result.service, not the whole result', () => {
    const body = completedJob();
    body.result.service.extensions[1].enabled = 1;
    body.result.service.maxIdleTime = '1800';
    const { job, warnings } = read(body);
    const service = job.result && typeof job.result === 'object' ? job.result.service : undefined;
    expect(service?.serviceName).toBe(body.result.service.serviceName);
    expect(service?.extensions?.[1]?.enabled).toBeUndefined();
    expect(service?.extensions?.[1]?.typeName).toBe(body.result.service.extensions[1].typeName);
    expect(service?.maxIdleTime).toBe(1800);
    expect(warnings.map((w) => w.pointer).sort()).toEqual([
      '/result/service/extensions/1/enabled',
      '/result/service/maxIdleTime',
    ]);
  });

  it('reads a single message, or a single extension, where a list is documented, as a list of one', () => {
    const body = completedJob();
    body.status = 'FAILED';
    body.messages = 'Service failed to start.';
    body.result.service.extensions = { typeName: 'WMSServer', enabled: 'true' };
    const { job, warnings } = read(body);
    expect(job.messages).toEqual(['Service failed to start.']);
    const service = job.result && typeof job.result === 'object' ? job.result.service : undefined;
    expect(service?.extensions).toEqual([{ typeName: 'WMSServer', enabled: 'true' }]);
    expect(warnings.map((w) => w.pointer).sort()).toEqual([
      '/messages',
      '/result/service/extensions',
    ]);
  });

  it('leaves out message items that are neither text nor a message object, and keeps the rest', () => {
    const body = completedJob();
    body.status = 'FAILED';
    body.messages = ['a', 42, { type: 'esriJobMessageTypeError', description: 'b' }, null, 'c'];
    const { job, warnings } = read(body);
    expect(job.messages).toEqual(['a', { type: 'esriJobMessageTypeError', description: 'b' }, 'c']);
    expect(warnings.map((w) => w.pointer)).toEqual(['/messages/1', '/messages/3']);
    expect(warnings[0]).toEqual({
      pointer: '/messages/1',
      expected: 'an object or a string',
      found: '42',
    });
  });

  it('warns about an unknown status, and keeps it verbatim', () => {
    const body = completedJob();
    body.status = 'QUEUED_FOR_ROLLBACK';
    const { job, warnings } = read(body);
    expect(job.status).toBe('QUEUED_FOR_ROLLBACK');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ pointer: '/status', found: '"QUEUED_FOR_ROLLBACK"' });
    expect(warnings[0]?.expected).toMatch(/^a known status \(SUBMITTED, .*ERROR/);
  });

  it('counts five warnings on one body, each once', () => {
    const { warnings } = read(fiveWarnings());
    expect(warnings).toHaveLength(5);
    expect(new Set(warnings.map((w) => w.pointer)).size).toBe(5);
  });

  it('shortens a long excerpt to one short line', () => {
    const body = completedJob();
    body.username = { a: 'x'.repeat(500) };
    const [warning] = read(body).warnings;
    expect(warning?.found.length).toBeLessThanOrEqual(60);
    expect(warning?.found.endsWith('…')).toBe(true);
  });
});

/** The seed's completed job with five fields in another shape (also the benchmark's body). */
export function fiveWarnings() {
  const body = completedJob();
  body.starttime = String(body.starttime);
  body.username = 42;
  body.result.service.maxIdleTime = 'PT30M';
  body.result.service.extensions[0].enabled = 1;
  body.result.service.portalProperties.isHosted = 'yes';
  return body;
}

describe('the other bodies: exact about what they are for, tolerant about the rest', () => {
  it('job list: an entry that is not a safe job id is left out, with a warning', () => {
    const result = safeParseJobList({ jobs: ['j1', '../x', 7, 'j2'] });
    expect(result).toMatchObject({ success: true, data: { jobs: ['j1', 'j2'] } });
    if (result.success)
      expect(result.warnings.map((w) => w.pointer)).toEqual(['/jobs/1', '/jobs/2']);
    expect(parseJobList(fixture('jobs-list'))).toEqual(fixture('jobs-list'));
  });

  it('job list: a body without a list of jobs is refused', () => {
    expect(() => parseJobList({ jobs: 'j1' })).toThrow(/jobs\.jobs: expected an array/);
    expect(() => parseJobList({})).toThrow(/jobs\.jobs/);
  });

  it('handle: a field in another shape is tolerated when the id is there', () => {
    const result = safeParseJobHandle({ ...fixture<object>('handle-stop-async'), jobsUrl: 5 });
    expect(result.success).toBe(true);
    if (result.success) {
      expect(result.warnings).toEqual([
        { pointer: '/jobsUrl', expected: 'a string or null', found: '5' },
      ]);
    }
    expect(parseJobHandle({ jobid: 'j1', jobStatus: 'submitted' }).jobStatus).toBe('submitted');
  });

  it('service: numbers and booleans in properties are read as sent, other shapes tolerated', () => {
    const service = completedJob().result.service;
    service.properties.maxRecordCount = 1000;
    service.properties.isCached = true;
    service.properties.nested = { a: 1 };
    service.type = 7;
    const result = safeParseService(service);
    expect(result.success).toBe(true);
    if (!result.success) return;
    expect(result.data.properties?.maxRecordCount).toBe(1000);
    expect(result.data.properties?.isCached).toBe(true);
    expect(result.data.properties).not.toHaveProperty('nested');
    expect(result.data.type).toBeUndefined();
    expect(result.warnings.map((w) => w.pointer).sort()).toEqual(['/properties/nested', '/type']);
  });

  it('service, services list and site info: any object is one; a non-object is refused', () => {
    expect(parseService({})).toEqual({});
    expect(parseSiteInfo({ currentVersion: null, resources: 'jobs' })).toEqual({
      currentVersion: null,
      resources: ['jobs'],
    });
    expect(parseServiceList({ services: [{ serviceName: 5, type: 'MapServer' }] })).toEqual({
      services: [{ type: 'MapServer' }],
    });
    expect(() => parseServiceList({ services: {} })).toThrow(/services\.services/);
    for (const input of [null, 'x', 3, []]) expect(() => parseService(input)).toThrow(/service/);
  });
});
