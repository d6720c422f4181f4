import { describe, expect, it } from 'vitest';
import {
  isSchemaError,
  jobIdFromHandle,
  parseJob,
  parseJobHandle,
  parseJobId,
  parseTokenResponse,
  SchemaError,
  type SchemaIssue,
  safeParseJob,
  safeParseJobHandle,
  safeParseTokenResponse,
} from '../src/index.js';
import { completedJob } from './fixtures.js';

/** Runs `fn`, which must throw a SchemaError, and returns it. */
function schemaErrorOf(fn: () => unknown): SchemaError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SchemaError);
    return error as SchemaError;
  }
  throw new Error('expected a SchemaError, but nothing was thrown');
}

function onlyIssue(error: SchemaError): SchemaIssue {
  expect(error.issues).toHaveLength(1);
  return error.issues[0]!;
}

describe('job bodies that are rejected', () => {
  it('job.status not a string', () => {
    const body = completedJob();
    body.status = 42;
    const error = schemaErrorOf(() => parseJob(body));
    expect(error.code).toBe('SCHEMA_INVALID');
    expect(error.kind).toBe('job');
    expect(error.message).toBe('job.status: expected a string, got 42');
    expect(onlyIssue(error)).toEqual({
      pointer: '/status',
      path: 'job.status',
      expected: 'a string',
      found: '42',
    });
  });

  it('job.jobid missing', () => {
    const body = completedJob();
    delete body.jobid;
    expect(onlyIssue(schemaErrorOf(() => parseJob(body)))).toMatchObject({
      pointer: '/jobid',
      found: 'missing',
    });
  });

  it.each([
    ['a path', '../services'],
    ['a query', 'j1?f=html'],
    ['an empty string', ''],
    ['a number', 42],
    ['null', null],
  ])('job.jobid that is not a safe id: %s', (_name, jobid) => {
    const body = completedJob();
    body.jobid = jobid;
    const issue = onlyIssue(schemaErrorOf(() => parseJob(body)));
    expect(issue.pointer).toBe('/jobid');
    expect(issue.path).toBe('job.jobid');
  });

  it('a body about another job than the one asked for', () => {
    const body = completedJob();
    const error = schemaErrorOf(() =>
      parseJob(body, { jobid: 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d' }),
    );
    expect(onlyIssue(error)).toEqual({
      pointer: '/jobid',
      path: 'job.jobid',
      expected: '"j2bcbcd49-83a4-4cc1-a034-40e4a266e96d"',
      found: `"${body.jobid}"`,
    });
    expect(parseJob(body, { jobid: body.jobid }).jobid).toBe(body.jobid);
  });

  it('job.status missing or null', () => {
    for (const status of [undefined, null]) {
      const body = completedJob();
      body.status = status;
      if (status === undefined) delete body.status;
      expect(onlyIssue(schemaErrorOf(() => parseJob(body))).pointer).toBe('/status');
    }
  });

  it('a body that is not an object', () => {
    for (const input of [null, 'COMPLETED', 42, [], undefined]) {
      const error = schemaErrorOf(() => parseJob(input));
      expect(error.issues[0]?.pointer).toBe('');
      expect(error.issues[0]?.path).toBe('job');
      expect(error.issues[0]?.expected).toBe('an object');
    }
  });

  it('reports only what decides: jobid and status, first in the message and the count after it', () => {
    const body = completedJob();
    body.status = null;
    body.jobid = '../x';
    delete body.username;
    body.endtime = 'never';
    const error = schemaErrorOf(() => parseJob(body));
    expect(error.issues.map((i) => i.pointer).sort()).toEqual(['/jobid', '/status']);
    expect(error.message).toMatch(/^job\.\w+: expected .+, got .+ \(and 1 more problem\)$/);
  });

  it('safeParse returns the same error instead of throwing, and loses nothing', () => {
    const body = completedJob();
    body.status = 42;
    const before = structuredClone(body);
    const result = safeParseJob(body);
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.message).toBe('job.status: expected a string, got 42');
    expect(body).toEqual(before);
  });

  it('the error is recognised by isSchemaError, and a plain Error is not', () => {
    const result = safeParseJob({});
    expect(result.success || isSchemaError(result.error)).toBe(true);
    expect(isSchemaError(new Error('x'))).toBe(false);
    expect(isSchemaError({ name: 'SchemaError', issues: [] })).toBe(true);
  });
});

describe('token responses that are rejected', () => {
  it('expires as a non-numeric string', () => {
    const error = schemaErrorOf(() =>
      parseTokenResponse({ token: 'EXAMPLE-TOKEN-NOT-REAL', expires: 'tomorrow' }),
    );
    expect(onlyIssue(error)).toEqual({
      pointer: '/expires',
      path: 'token.expires',
      expected: 'a number or a string matching ^[0-9]+$',
      found: '"tomorrow"',
    });
  });

  it('an empty token, without showing it', () => {
    const result = safeParseTokenResponse({ token: '', expires: 1 });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.issues[0]?.path).toBe('token.token');
  });

  it('never shows the token value in an error', () => {
    const secret = 987654321012345;
    const error = schemaErrorOf(() => parseTokenResponse({ token: secret, expires: 'soon' }));
    expect(error.issues.map((i) => i.pointer).sort()).toEqual(['/expires', '/token']);
    const tokenIssue = error.issues.find((i) => i.pointer === '/token')!;
    expect(tokenIssue.found).toBe('a number (not shown)');
    expect(JSON.stringify(error.issues) + error.message).not.toContain(String(secret));
    const inArray = schemaErrorOf(() => parseTokenResponse({ token: ['s3cret'], expires: 1 }));
    expect(inArray.issues[0]?.found).toBe('an array (not shown)');
    expect(JSON.stringify(inArray.issues) + inArray.message).not.toContain('s3cret');

    const bare = schemaErrorOf(() => parseTokenResponse('s3cret-token-as-the-whole-body'));
    expect(bare.message).toBe('token: expected an object, got a string (not shown)');
  });
});

describe('job handles that are rejected', () => {
  it('a handle with no id', () => {
    const error = schemaErrorOf(() => parseJobHandle({ jobStatus: 'SUBMITTED' }));
    expect(error.code).toBe('SCHEMA_INVALID');
    expect(onlyIssue(error)).toEqual({
      pointer: '/jobid',
      path: 'jobHandle.jobid',
      expected: 'a job id in jobid, jobID or jobsUrl',
      found: 'missing',
    });
    expect(safeParseJobHandle({}).success).toBe(false);
  });

  it('a handle whose only id is not a string names that field', () => {
    const error = schemaErrorOf(() => parseJobHandle({ jobID: 7 }));
    expect(onlyIssue(error)).toMatchObject({
      pointer: '/jobID',
      path: 'jobHandle.jobID',
      found: '7',
    });
  });

  it('a handle whose id is unsafe names the field it came from', () => {
    const error = schemaErrorOf(() => parseJobHandle({ jobID: '../services' }));
    expect(error.code).toBe('INVALID_JOB_ID');
    expect(onlyIssue(error)).toMatchObject({
      pointer: '/jobID',
      path: 'jobHandle.jobID',
      found: '"../services"',
    });
  });

  it('a jobsUrl that does not end in /jobs/<id>', () => {
    for (const jobsUrl of ['https://h/ctx/admin/jobs', 'https://h/ctx/admin/jobs/', 'j1', '']) {
      const error = schemaErrorOf(() => jobIdFromHandle({ jobsUrl }));
      expect(onlyIssue(error)).toMatchObject({ pointer: '/jobsUrl', path: 'jobHandle.jobsUrl' });
    }
  });

  it('a jobsUrl whose id is unsafe', () => {
    const error = schemaErrorOf(() => jobIdFromHandle({ jobsUrl: 'https://h/a/jobs/j1%2F..' }));
    expect(error.code).toBe('INVALID_JOB_ID');
    expect(error.issues[0]?.path).toBe('jobHandle.jobsUrl');
  });

  it('a handle that is not an object', () => {
    for (const input of [null, 'j1', ['j1']]) {
      expect(schemaErrorOf(() => parseJobHandle(input)).issues[0]?.pointer).toBe('');
    }
  });
});

describe('hostile job ids', () => {
  const cases: [name: string, input: unknown, expected: string][] = [
    ['a slash', 'j1/../services', 'a job id of letters, digits, "-" and "_" only'],
    ['a dot', 'j1.json', 'a job id of letters, digits, "-" and "_" only'],
    ['a lone dot-dot', '..', 'a job id of letters, digits, "-" and "_" only'],
    ['a percent escape', 'j1%2F', 'a job id of letters, digits, "-" and "_" only'],
    ['a question mark', 'j1?f=html', 'a job id of letters, digits, "-" and "_" only'],
    ['a hash', 'j1#x', 'a job id of letters, digits, "-" and "_" only'],
    ['a space', 'j1 2', 'a job id of letters, digits, "-" and "_" only'],
    ['a trailing newline', 'j1\n', 'a job id of letters, digits, "-" and "_" only'],
    ['a tab', '\tj1', 'a job id of letters, digits, "-" and "_" only'],
    ['a NUL', 'j1\u0000', 'a job id of letters, digits, "-" and "_" only'],
    ['a DEL', 'j1\u007f', 'a job id of letters, digits, "-" and "_" only'],
    ['a non-ASCII letter', 'jé', 'a job id of letters, digits, "-" and "_" only'],
    ['an ampersand', 'j1&token=x', 'a job id of letters, digits, "-" and "_" only'],
    ['129 characters', `j${'a'.repeat(128)}`, 'a job id of at most 128 characters'],
    ['empty', '', 'a non-empty job id'],
    ['a number', 42, 'a job id string'],
    ['null', null, 'a job id string'],
    ['undefined', undefined, 'a job id string'],
    ['an object', { toString: () => 'j1' }, 'a job id string'],
    ['an array', ['j1'], 'a job id string'],
  ];

  it.each(cases)('rejects %s', (_name, input, expected) => {
    const error = schemaErrorOf(() => parseJobId(input));
    expect(error.code).toBe('INVALID_JOB_ID');
    expect(error.kind).toBe('jobId');
    expect(onlyIssue(error)).toMatchObject({ pointer: '', path: 'jobId', expected });
    expect(error.message).toBe(`jobId: expected ${expected}, got ${error.issues[0]!.found}`);
  });

  it('shows control characters escaped and long ids shortened', () => {
    expect(schemaErrorOf(() => parseJobId('j1\n')).issues[0]?.found).toBe('"j1\\n"');
    const long = schemaErrorOf(() => parseJobId('j'.repeat(500))).issues[0]!.found;
    expect(long.length).toBeLessThan(50);
  });

  it('accepts exactly 128 characters and the real forms', () => {
    expect(parseJobId(`j${'a'.repeat(127)}`)).toHaveLength(128);
    expect(parseJobId('j47c0c626-7188-4053-be06-ae93de987b01')).toBe(
      'j47c0c626-7188-4053-be06-ae93de987b01',
    );
    expect(parseJobId('j0123456789abcdef0123456789abcdef')).toBe(
      'j0123456789abcdef0123456789abcdef',
    );
  });
});
