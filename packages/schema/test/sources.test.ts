import { describe, expect, it } from 'vitest';
import {
  checkJobRef,
  isJobRefError,
  type JobRef,
  JobRefError,
  jobRefAdminUrl,
  jobRefKey,
  jobRefUrl,
  makeSnapshot,
  parseGpJob,
  parseJobRef,
  parseSnapshot,
  readSourceJob,
  type SourceJob,
  safeParseJobRef,
  safeParseServerJob,
  sourceStatus,
  visiblyDiffers,
} from '../src/index.js';
import { fixture, sourceFixture } from './fixtures.js';

const SERVER =
  'https://gis.example.com/arcgis/admin/system/jobs/jcbdbf7aa-385e-417a-b629-29a310895b9b';
const ENTERPRISE =
  'https://gis.example.com/arcgis/admin/jobs/j2bcbcd49-83a4-4cc1-a034-40e4a266e96d';
const GP =
  'https://sampleserver2.arcgisonline.com/ArcGIS/rest/services/PublicSafety/EMModels/GPServer/ERGByChemical/jobs/jf082fc6d926043fda44169444963fe46';
const ITEM =
  'https://www.arcgis.com/sharing/rest/content/users/jsmith/items/49bf5db6340e4bccaceca5af3b2bec4b/status?jobType=publish&jobId=ff07c87a-dccd-46b4-9597-446dcda248ff';

describe('parseJobRef reads a job URL of every source', () => {
  it('reads the documentation example URLs into references', () => {
    expect(parseJobRef(ENTERPRISE)).toEqual({
      source: 'enterprise',
      adminUrl: 'https://gis.example.com/arcgis/admin',
      jobid: 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d',
    });
    expect(parseJobRef(SERVER)).toEqual({
      source: 'server',
      adminUrl: 'https://gis.example.com/arcgis/admin',
      jobid: 'jcbdbf7aa-385e-417a-b629-29a310895b9b',
    });
    expect(parseJobRef(GP)).toEqual({
      source: 'gp',
      taskUrl:
        'https://sampleserver2.arcgisonline.com/ArcGIS/rest/services/PublicSafety/EMModels/GPServer/ERGByChemical',
      jobid: 'jf082fc6d926043fda44169444963fe46',
    });
    expect(parseJobRef(ITEM)).toEqual({
      source: 'item',
      portalUrl: 'https://www.arcgis.com',
      username: 'jsmith',
      itemId: '49bf5db6340e4bccaceca5af3b2bec4b',
      jobType: 'publish',
      jobid: 'ff07c87a-dccd-46b4-9597-446dcda248ff',
    });
  });

  it.each([ENTERPRISE, SERVER, GP, ITEM])('prints %s back exactly (round trip)', (url) => {
    expect(jobRefUrl(parseJobRef(url))).toBe(url);
    expect(checkJobRef(parseJobRef(url))).toEqual(parseJobRef(url));
  });

  it('reads a GP service at the root folder, a task name with spaces and a portal context', () => {
    const root = parseJobRef('https://h/server/rest/services/Buffer/GPServer/Buffer/jobs/j1');
    expect(root).toMatchObject({
      taskUrl: 'https://h/server/rest/services/Buffer/GPServer/Buffer',
    });
    const spaced = parseJobRef(
      'https://h/webadaptor/rest/services/911CallsHotspot/GPServer/911%20Calls%20Hotspot/jobs/jbcb377968f0d46b980bcbfc75a8e05ef',
    );
    expect(spaced).toMatchObject({
      taskUrl: 'https://h/webadaptor/rest/services/911CallsHotspot/GPServer/911%20Calls%20Hotspot',
    });
    expect(jobRefUrl(spaced)).toContain('/GPServer/911%20Calls%20Hotspot/jobs/');
    const item = parseJobRef(
      'https://h/portal/sharing/rest/content/users/first.last_org/items/abc123/status?jobId=j9&jobType=export&f=json',
    );
    expect(item).toMatchObject({ portalUrl: 'https://h/portal', username: 'first.last_org' });
    expect(jobRefAdminUrl(item)).toBe('https://h/portal/admin');
    expect(jobRefAdminUrl(root)).toBe('https://h/server/admin');
  });

  it('keys every spelling of one job alike: host case, a trailing slash, f=json', () => {
    const a = parseJobRef(SERVER);
    const b = parseJobRef(`${SERVER.replace('gis.example.com', 'GIS.Example.com')}/?f=pjson`);
    expect(jobRefKey(b)).toBe(jobRefKey(a));
    expect(jobRefKey(a)).not.toBe(jobRefKey(parseJobRef(ENTERPRISE.replace(/j2b[^/]*$/, a.jobid))));
    const item = parseJobRef(ITEM);
    const otherUser = parseJobRef(ITEM.replace('/users/jsmith/', '/users/admin/'));
    expect(jobRefKey(otherUser)).toBe(jobRefKey(item));
  });
});

describe('parseJobRef refuses hostile job URLs of every source, without a request', () => {
  const hostile: [string, string][] = [
    ['enterprise: a climbing path', 'https://h/arcgis/admin/jobs/../services/x/jobs/j1'],
    ['enterprise: an unsafe id', 'https://h/arcgis/admin/jobs/j1;rm'],
    ['enterprise: credentials', 'https://admin:s3cret@h/arcgis/admin/jobs/j1'],
    ['server: an encoded slash', 'https://h/arcgis/admin/system/jobs/j1%2F..%2Fx'],
    ['server: a token in the query', 'https://h/arcgis/admin/system/jobs/j1?token=SECRETTOKEN'],
    ['server: a fragment', 'https://h/arcgis/admin/system/jobs/j1#x'],
    ['gp: dot segments', 'https://h/arcgis/rest/services/./Buffer/GPServer/Buffer/jobs/j1'],
    ['gp: a backslash', 'https://h/arcgis/rest/services/Buffer/GPServer/Buffer\\..\\admin/jobs/j1'],
    ['gp: an empty segment', 'https://h/arcgis/rest/services//Buffer/GPServer/Buffer/jobs/j1'],
    ['gp: an encoded dot in the task', 'https://h/arcgis/rest/services/B/GPServer/%2e%2e/jobs/j1'],
    ['gp: an extra query parameter', 'https://h/arcgis/rest/services/B/GPServer/T/jobs/j1?x=1'],
    [
      'item: no job id',
      'https://h/portal/sharing/rest/content/users/u/items/abc/status?jobType=publish',
    ],
    [
      'item: a dotted user',
      'https://h/portal/sharing/rest/content/users/../items/abc/status?jobType=publish&jobId=j1',
    ],
    [
      'item: an unsafe job id',
      'https://h/portal/sharing/rest/content/users/u/items/abc/status?jobType=publish&jobId=a.b',
    ],
    [
      'item: an access token',
      'https://h/portal/sharing/rest/content/users/u/items/abc/status?jobType=publish&jobId=j1&access_token=SECRETTOKEN',
    ],
    ['not http', 'ftp://h/arcgis/admin/jobs/j1'],
    ['a control character', 'https://h/arcgis/admin/jobs/j1\u0000'],
    ['no known shape', 'https://h/arcgis/rest/services/B/MapServer/0'],
  ];
  it.each(hostile)('%s', (_what, url) => {
    let error: unknown;
    try {
      parseJobRef(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(JobRefError);
    expect(isJobRefError(error)).toBe(true);
    const e = error as JobRefError;
    expect(e.code).toBe('BAD_JOB_URL');
    expect(e.message).not.toMatch(/s3cret|SECRETTOKEN|[\n\r\u0000]/);
    expect(safeParseJobRef(url).success).toBe(false);
  });

  it('refuses a hand-made reference whose parts are unsafe', () => {
    const bad = { source: 'gp', taskUrl: 'https://h/x/../admin', jobid: 'j1' } as JobRef;
    expect(() => checkJobRef(bad)).toThrow(JobRefError);
    const badId = { source: 'server', adminUrl: 'https://h/arcgis/admin', jobid: '../x' } as JobRef;
    expect(() => checkJobRef(badId)).toThrow(JobRefError);
  });
});

const read = (ref: JobRef, body: unknown) => {
  const result = readSourceJob(ref, body);
  if (!result.success) throw result.error;
  return result;
};

describe('reading each source: exact about the job and its status, tolerant about the rest', () => {
  const serverRef = parseJobRef(SERVER);
  const gpRef = parseJobRef(GP);
  const itemRef = parseJobRef(ITEM);

  it('reads the documentation examples without a warning', () => {
    expect(read(serverRef, sourceFixture('server-job-completed-error')).warnings).toEqual([]);
    expect(read(gpRef, sourceFixture('gp-job-succeeded')).warnings).toEqual([]);
    const item = read({ ...itemRef, jobid: 'j1' } as JobRef, sourceFixture('item-status-partial'));
    expect(item.warnings).toEqual([]);
    expect(item.data).toMatchObject({ jobid: 'j1', status: 'partial' });
  });

  it('refuses a body about another job, or without a status', () => {
    expect(
      readSourceJob(
        { ...serverRef, jobid: 'jother' } as JobRef,
        sourceFixture('server-job-completed-error'),
      ).success,
    ).toBe(false);
    expect(
      readSourceJob({ ...gpRef, jobid: 'jother' } as JobRef, sourceFixture('gp-job-succeeded'))
        .success,
    ).toBe(false);
    const { jobStatus: _gone, ...noStatus } = sourceFixture('gp-job-succeeded');
    const refused = readSourceJob(gpRef, noStatus);
    expect(refused.success).toBe(false);
    if (!refused.success) expect(refused.error.issues[0]?.pointer).toBe('/jobStatus');
    // An item body that names another item is not the job asked for.
    const other = {
      ...sourceFixture('item-status-failed'),
      itemId: 'ffffffffffffffffffffffffffffffff',
    };
    expect(readSourceJob(itemRef, other).success).toBe(false);
    expect(readSourceJob(itemRef, { statusMessage: 'processing' }).success).toBe(false);
    expect(readSourceJob(serverRef, { jobid: serverRef.jobid, status: 7 }).success).toBe(false);
  });

  it('keeps values in other shapes with a warning instead of failing the watch', () => {
    const body = {
      ...sourceFixture('server-job-completed-error'),
      totalsteps: '3',
      stepInfo: 'Stopping the service',
      operationResponse: 42,
    };
    const result = safeParseServerJob(body, { jobid: serverRef.jobid });
    expect(result.success).toBe(true);
    if (!result.success) return;
    expect(result.data.totalsteps).toBe(3);
    expect(result.data.stepInfo).toEqual(['Stopping the service']);
    expect(result.data.operationResponse).toBeUndefined();
    expect(result.warnings.map((w) => w.pointer)).toEqual([
      '/totalsteps',
      '/stepInfo',
      '/operationResponse',
    ]);
    const gp = readSourceJob(gpRef, {
      ...sourceFixture('gp-job-succeeded'),
      progress: 'half',
      results: { out: { paramUrl: 5 } },
    });
    expect(gp.success).toBe(true);
    if (gp.success)
      expect(gp.warnings.map((w) => w.pointer)).toEqual(['/results/out/paramUrl', '/progress']);
  });

  it('an item job is the body as sent, the job id first, the body itself unchanged', () => {
    const itemId = '49bf5db6340e4bccaceca5af3b2bec4b';
    const bodies: Record<string, unknown>[] = [
      sourceFixture('item-status-failed'),
      { status: 'completed' },
      { status: 'processing', itemId, statusMessage: 'half way' },
      { itemId, status: 'partial', extra: { kept: true } },
      { status: 'completed', jobid: 'theirs', statusMessage: null },
    ];
    for (const body of bodies) {
      const before = JSON.stringify(body);
      const result = read(itemRef, body);
      expect(result.warnings).toEqual([]);
      expect(JSON.stringify(body)).toBe(before);
      const { jobid: _theirs, ...rest } = body;
      expect(result.data).toEqual({ ...rest, jobid: itemRef.jobid });
      // The same fields in the same order as the body, ours first or in place of its own.
      const order = Object.keys(body).includes('jobid')
        ? Object.keys(body)
        : ['jobid', ...Object.keys(body)];
      expect(Object.keys(result.data)).toEqual(order);
    }
  });

  it('keeps an unknown status verbatim, with a warning', () => {
    const result = read(gpRef, { jobId: gpRef.jobid, jobStatus: 'esriJobParked' });
    expect(result.warnings).toEqual([
      expect.objectContaining({ pointer: '/jobStatus', found: '"esriJobParked"' }),
    ]);
    expect(sourceStatus('gp', result.data)).toBe('esriJobParked');
  });
});

describe('status mapping per source', () => {
  const gp: [string, string][] = [
    ['esriJobNew', 'SUBMITTED'],
    ['esriJobWaiting', 'SUBMITTED'],
    ['esriJobSubmitted', 'SUBMITTED'],
    ['esriJobExecuting', 'EXECUTING'],
    ['esriJobCancelling', 'CANCELLING'],
    ['esriJobCancelled', 'CANCELLED'],
    ['esriJobFailed', 'FAILED'],
    ['expectedFailure', 'FAILED'],
    ['esriJobTimedOut', 'TIMED OUT'],
    ['esriJobSucceeded', 'COMPLETED'],
    ['esriJobDeleting', 'CANCELLED'],
    ['esriJobDeleted', 'CANCELLED'],
  ];
  it.each(gp)('gp %s is %s', (raw, status) => {
    expect(sourceStatus('gp', { status: raw })).toBe(status);
  });
  it.each([
    ['partial', 'EXECUTING'],
    ['processing', 'EXECUTING'],
    ['failed', 'FAILED'],
    ['completed', 'COMPLETED'],
    ['Completed', 'COMPLETED'],
  ])('item %s is %s', (raw, status) => {
    expect(sourceStatus('item', { status: raw })).toBe(status);
  });
  it('server: the admin vocabulary, and COMPLETED with an error operationResponse is FAILED', () => {
    expect(sourceStatus('server', { status: 'executing' })).toBe('EXECUTING');
    const body = sourceFixture('server-job-completed-error');
    expect(sourceStatus('server', body)).toBe('FAILED');
    expect(sourceStatus('server', { ...body, operationResponse: { status: 'ERROR' } })).toBe(
      'FAILED',
    );
    expect(sourceStatus('server', { ...body, operationResponse: { status: 'success' } })).toBe(
      'COMPLETED',
    );
    // The same body read as an admin job on Kubernetes knows nothing of operationResponse.
    expect(sourceStatus('enterprise', body)).toBe('COMPLETED');
  });
});

const snap = (ref: JobRef, job: SourceJob | null, over = {}) =>
  makeSnapshot({
    deployment: 'default',
    jobid: ref.jobid,
    job,
    firstSeen: 1,
    lastPolled: 2,
    lastChanged: 2,
    ref,
    ...over,
  });

describe('snapshots of every source', () => {
  it('server: a COMPLETED job whose operation answered an error is FAILED, with its reason', () => {
    const ref = parseJobRef(SERVER);
    const s = snap(ref, read(ref, sourceFixture('server-job-completed-error')).data);
    expect(s).toMatchObject({
      source: 'server',
      url: SERVER,
      status: 'FAILED',
      outcome: 'failed',
      terminal: true,
      reason: 'service failed to start',
      progress: 1,
      step: {
        text: "Stopping the service 'USA' on machine 'MACHINE.DOMAIN.COM'",
        index: 3,
        total: 3,
      },
    });
    expect(s.job?.status).toBe('COMPLETED');
    expect(parseSnapshot(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it('server: progress is currentstep / totalsteps while it runs', () => {
    const ref = parseJobRef(SERVER);
    const running = snap(
      ref,
      read(ref, {
        jobid: ref.jobid,
        status: 'EXECUTING',
        totalsteps: 4,
        currentstep: 1,
        stepInfo: ['Stopping'],
      }).data,
    );
    expect(running).toMatchObject({
      progress: 0.25,
      step: { text: 'Stopping', index: 1, total: 4 },
    });
  });

  it('gp: progress from percentage, the step from its message, results as absolute URLs', () => {
    const ref = { ...parseJobRef(GP), jobid: 'jd24beebaa2c5477ea3bb8bc7f2a0aaf1' } as JobRef;
    const running = snap(ref, read(ref, sourceFixture('gp-job-executing')).data);
    expect(running).toMatchObject({
      status: 'EXECUTING',
      progress: 0.4,
      step: { text: 'Copying features' },
    });
    expect(running.results).toBeUndefined();

    const doneRef = parseJobRef(GP);
    const done = snap(doneRef, read(doneRef, sourceFixture('gp-job-succeeded')).data);
    expect(done).toMatchObject({ status: 'COMPLETED', outcome: 'succeeded', progress: 1 });
    expect(done.results).toEqual([
      { name: 'outerg_shp', url: `${GP}/results/outerg_shp` },
      { name: 'innerg_shp', url: `${GP}/results/innerg_shp` },
    ]);
    expect(done.job).toMatchObject({ jobid: doneRef.jobid, status: 'esriJobSucceeded' });
  });

  it('gp: a result link that climbs or leaves the server is built from its name instead', () => {
    const ref = parseJobRef(GP);
    const body = {
      ...sourceFixture('gp-job-succeeded'),
      results: {
        a: { paramUrl: '../../../admin/x' },
        b: { paramUrl: 'https://evil.example.com/x' },
        'c/../d': { paramUrl: '//evil' },
      },
    };
    const s = snap(ref, read(ref, body).data);
    expect(s.results).toEqual([
      { name: 'a', url: `${GP}/results/a` },
      { name: 'b', url: `${GP}/results/b` },
    ]);
  });

  it('gp: a failed job says why, the error messages first', () => {
    const ref = { ...parseJobRef(GP), jobid: 'j8b8a1b9d1cb0446e9d1a6a1a3bb7c1f2' } as JobRef;
    const s = snap(ref, read(ref, sourceFixture('gp-job-failed')).data);
    expect(s.reason).toBe(
      'ERROR 000732: Input Features: Dataset does not exist or is not supported; Failed to execute (Buffer).',
    );
    const deleted = snap(ref, read(ref, { jobId: ref.jobid, jobStatus: 'esriJobDeleted' }).data);
    expect(deleted).toMatchObject({ status: 'CANCELLED', reason: 'the job was deleted' });
  });

  it('item: failed is the outcome, with the status message as its reason', () => {
    const ref = parseJobRef(ITEM);
    const s = snap(ref, read(ref, sourceFixture('item-status-failed')).data);
    expect(s).toMatchObject({
      source: 'item',
      status: 'FAILED',
      reason: 'Job failed: the service definition could not be read',
      progress: null,
    });
  });

  it('a progress or step change is a visible change', () => {
    const ref = parseJobRef(SERVER);
    const body = { jobid: ref.jobid, status: 'EXECUTING', totalsteps: 4, currentstep: 1 };
    const a = snap(ref, read(ref, body).data);
    const b = snap(ref, read(ref, { ...body, currentstep: 2 }).data);
    expect(visiblyDiffers(a, b)).toBe(true);
    expect(visiblyDiffers(a, snap(ref, read(ref, body).data))).toBe(false);
  });

  it('an admin job snapshot has no source or url, and one stored before progress still parses', () => {
    const job = fixture<SourceJob>('job-executing');
    const s = makeSnapshot({
      deployment: 'd',
      jobid: job.jobid,
      job,
      firstSeen: 1,
      lastPolled: 1,
      lastChanged: 1,
    });
    expect(s.source).toBeUndefined();
    expect(s.url).toBeUndefined();
    expect(s.progress).toBeNull();
    const { progress: _p, ...old } = JSON.parse(JSON.stringify(s));
    expect(parseSnapshot(old)).toEqual(old);
  });

  it('the GP submit answer is a GP job body', () => {
    expect(parseGpJob(sourceFixture('gp-submit'))).toMatchObject({ jobStatus: 'esriJobSubmitted' });
  });
});

describe('an item job whose statusMessage is JSON text', () => {
  it('takes the message out of it for the reason', () => {
    const ref = parseJobRef(ITEM);
    const body = {
      ...sourceFixture('item-status-failed'),
      statusMessage: '{"code":500,"message":"Publishing failed: bad geometry."}',
    };
    expect(snap(ref, read(ref, body).data).reason).toBe('Publishing failed: bad geometry.');
  });
});
