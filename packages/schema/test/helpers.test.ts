import { describe, expect, it } from 'vitest';
import { jobIdFromHandle, parseOperationUri, readErrorBody, SchemaError } from '../src/index.js';
import { completedJob, fixture } from './fixtures.js';

describe('readErrorBody', () => {
  it('reads format A (REST) from the reference', () => {
    expect(readErrorBody(fixture('error-invalid-token'))).toEqual({
      code: 498,
      message: 'Invalid token.',
      messages: ['Invalid token.'],
      details: [],
      messageCode: undefined,
      format: 'rest',
      said: true,
    });
    expect(readErrorBody(fixture('error-token-required'))?.code).toBe(499);
  });

  it('reads format B (admin) from the reference', () => {
    const info = readErrorBody(fixture('admin-error-token-not-found'));
    expect(info).toEqual({
      code: 499,
      message:
        "Unauthorized access.Token not found. You can generate a token using the 'generateToken' operation.",
      messages: [
        "Unauthorized access.Token not found. You can generate a token using the 'generateToken' operation.",
      ],
      details: [],
      messageCode: undefined,
      format: 'admin',
      said: true,
    });
  });

  it('reads format A with details, a messageCode and a string code', () => {
    const info = readErrorBody({
      error: { code: '500', message: ' ', details: ['Item not found.'], messageCode: 'CONT_0001' },
    });
    expect(info).toMatchObject({
      code: 500,
      message: 'Item not found.',
      details: ['Item not found.'],
      messageCode: 'CONT_0001',
    });
  });

  it('reads format A whose details is a string or null, and whose code is not a number', () => {
    expect(readErrorBody({ error: { code: 'E42', details: 'Broken.' } })).toMatchObject({
      code: undefined,
      message: 'Broken.',
      details: ['Broken.'],
    });
    expect(readErrorBody({ error: { code: 400, details: null } })).toMatchObject({
      message: 'the server reported an error (code 400) and gave no message',
      details: [],
      said: false,
    });
  });

  it('reads an error member without a code, or that is a bare string', () => {
    expect(readErrorBody({ error: { message: 'Not allowed.' } })).toMatchObject({
      code: undefined,
      message: 'Not allowed.',
      format: 'rest',
    });
    expect(readErrorBody({ error: 'Invalid token.' })).toMatchObject({
      code: undefined,
      message: 'Invalid token.',
      format: 'rest',
    });
  });

  it('reads a top-level code of 400 or more as an error', () => {
    expect(readErrorBody({ code: 500, message: 'Internal error.' })).toMatchObject({
      code: 500,
      message: 'Internal error.',
      format: 'code',
    });
    expect(readErrorBody({ code: '403' })).toMatchObject({
      code: 403,
      message: 'the server answered code 403 and gave no message',
      format: 'code',
    });
    expect(readErrorBody({ code: 200, message: 'ok' })).toBeUndefined();
  });

  it('reads status failed with a statusMessage in plain text or JSON text', () => {
    expect(readErrorBody({ status: 'failed', statusMessage: 'Item is locked.' })).toMatchObject({
      message: 'Item is locked.',
      format: 'admin',
    });
    expect(
      readErrorBody({
        status: 'failed',
        statusMessage: '{"code":400,"message":"Publishing failed: no layers."}',
      }),
    ).toMatchObject({ code: 400, message: 'Publishing failed: no layers.' });
    expect(readErrorBody({ status: 'failure', message: 'Nope.' })?.message).toBe('Nope.');
  });

  it('says what the server gave when it gave no text, never "Operation failed"', () => {
    expect(readErrorBody({ status: 'failed' })).toMatchObject({
      code: undefined,
      message: 'the server answered status "failed" and gave no message',
      format: 'admin',
      said: false,
    });
    expect(readErrorBody({ status: 'error', messages: ['a', 'b'], code: '404' })).toMatchObject({
      code: 404,
      message: 'a b',
    });
  });

  it.each([
    ['null', null],
    ['a string', 'error'],
    ['a number', 500],
    ['an array', [{ error: { code: 498 } }]],
    ['the success body', { status: 'success' }],
    ['a completed job', completedJob()],
    ['a FAILED job (a value, not an error)', { ...completedJob(), status: 'FAILED' }],
    ['a job whose status reads failed', { ...completedJob(), status: 'failed' }],
    ['a job with an error member', { ...completedJob(), status: 'FAILED', error: { code: 500 } }],
    ['a job handle', fixture('handle-stop-async')],
    ['an error member that is empty', { error: '' }],
    ['an empty object', {}],
  ])('returns undefined for %s', (_name, body) => {
    expect(readErrorBody(body)).toBeUndefined();
  });
});

describe('jobIdFromHandle', () => {
  const id = 'ja2ca1a35-881c-400c-a49a-b26883002d6c';

  it('reads jobid, then jobID, then jobsUrl', () => {
    expect(jobIdFromHandle({ jobid: 'j1', jobID: 'j2', jobsUrl: 'https://h/a/jobs/j3' })).toBe(
      'j1',
    );
    expect(jobIdFromHandle({ jobID: 'j2', jobsUrl: 'https://h/a/jobs/j3' })).toBe('j2');
    expect(jobIdFromHandle({ jobsUrl: 'https://h/a/jobs/j3' })).toBe('j3');
  });

  it.each([
    ['a plain jobsUrl', `https://organization.domain.com/context/admin/jobs/${id}`],
    ['a query string', `https://h/context/admin/jobs/${id}?f=json`],
    ['a trailing slash', `https://h/context/admin/jobs/${id}/`],
    ['a trailing slash and a query string', `https://h/context/admin/jobs/${id}/?f=pjson#top`],
    ['a fragment', `https://h/context/admin/jobs/${id}#x`],
    ['a relative URL', `/context/admin/jobs/${id}`],
  ])('reads the id from jobsUrl only, with %s', (_name, jobsUrl) => {
    expect(jobIdFromHandle({ jobsUrl })).toBe(id);
  });

  it('throws a SchemaError for a handle that names no job', () => {
    expect(() => jobIdFromHandle({})).toThrow(SchemaError);
    expect(() => jobIdFromHandle({ jobStatus: 'SUBMITTED' })).toThrow(
      'jobHandle.jobid: expected a job id in jobid, jobID or jobsUrl, got missing',
    );
  });
});

describe('parseOperationUri', () => {
  it('reads a service operation', () => {
    expect(parseOperationUri('/context/admin/services/FireWeatherWatch.MapServer/edit')).toEqual({
      operation: 'edit',
      target: 'service',
      serviceName: 'FireWeatherWatch',
      serviceType: 'MapServer',
      path: 'services/FireWeatherWatch.MapServer/edit',
    });
  });

  it('reads a service in a folder, and a nested operation', () => {
    expect(
      parseOperationUri('/arcgis/admin/services/Fire/Weather.FeatureServer/stop'),
    ).toMatchObject({
      operation: 'stop',
      target: 'service',
      serviceName: 'Weather',
      serviceType: 'FeatureServer',
      folder: 'Fire',
    });
    expect(parseOperationUri('/a/admin/services/S.MapServer/scaling/edit')).toMatchObject({
      operation: 'edit',
      serviceName: 'S',
      path: 'services/S.MapServer/scaling/edit',
    });
  });

  it('decodes escaped segments and ignores a query string', () => {
    expect(
      parseOperationUri('/a/admin/services/My%20Folder/S.MapServer/start?f=json'),
    ).toMatchObject({
      operation: 'start',
      folder: 'My Folder',
    });
  });

  it('reads deleteServices as an operation on the services collection', () => {
    expect(parseOperationUri('/context/admin/services/deleteServices')).toEqual({
      operation: 'deleteServices',
      target: 'services',
      path: 'services/deleteServices',
    });
  });

  it('reads a backup', () => {
    expect(
      parseOperationUri('/context/admin/system/disasterrecovery/stores/nightly/backups/create'),
    ).toEqual({
      operation: 'create',
      target: 'backup',
      store: 'nightly',
      path: 'system/disasterrecovery/stores/nightly/backups/create',
    });
  });

  it.each([
    ['empty', '', ''],
    ['null', null, ''],
    ['undefined', undefined, ''],
    ['words', 'not a uri at all', 'not a uri at all'],
    ['a bad escape', '/a/admin/system/%E0%A4%A', '%E0%A4%A'],
    ['an unknown resource', '/a/admin/system/refresh', 'refresh'],
  ])('never throws on garbage (%s): target other', (_name, uri, operation) => {
    const info = parseOperationUri(uri);
    expect(info.target).toBe('other');
    expect(info.operation).toBe(operation);
  });
});
