import { describe, expect, it } from 'vitest';
import {
  isCanonicalJobId,
  isExtensionEnabled,
  parseJob,
  parseService,
  parseTokenResponse,
  resultObject,
  statusKind,
  tokenExpiresAt,
} from '../src/index.js';
import { completedJob } from './fixtures.js';

describe('bodies that are accepted though they differ from the examples', () => {
  it('keeps extra fields at every level, untouched', () => {
    const body = completedJob();
    body.progress = { percent: 40 };
    body.result.summary = 'done';
    body.result.service.newFrameworkSetting = 7;
    body.result.service.extensions[0].newFlag = true;
    body.result.service.portalProperties.portalItems[0].title = 'World Cities';
    const job = parseJob(body) as typeof body;
    expect(job.progress).toEqual({ percent: 40 });
    expect(job.result.summary).toBe('done');
    expect(job.result.service.newFrameworkSetting).toBe(7);
    expect(job.result.service.extensions[0].newFlag).toBe(true);
    expect(job.result.service.portalProperties.portalItems[0].title).toBe('World Cities');
  });

  it('keeps an unknown status verbatim and calls it unknown', () => {
    const body = completedJob();
    body.status = 'QUEUED_FOR_ROLLBACK';
    const job = parseJob(body);
    expect(job.status).toBe('QUEUED_FOR_ROLLBACK');
    expect(statusKind(job.status)).toBe('unknown');
  });

  it('keeps a differently cased status verbatim, and reads it as that status', () => {
    const body = completedJob();
    body.status = 'completed';
    const job = parseJob(body);
    expect(job.status).toBe('completed');
    expect(statusKind(job.status)).toBe('terminal');
  });

  it.each([
    ['"true"', 'true', true],
    ['"TRUE"', 'TRUE', true],
    ['" True "', ' True ', true],
    ['"false"', 'false', false],
    ['"FALSE"', 'FALSE', false],
    ['true', true, true],
    ['false', false, false],
    ['an empty string', '', false],
    ['"yes" (not a word ArcGIS uses)', 'yes', false],
  ])('reads extension enabled given as %s', (_name, enabled, expected) => {
    const body = completedJob();
    body.result.service.extensions[0].enabled = enabled;
    const extension = resultObject(parseJob(body))!.service!.extensions![0]!;
    expect(extension.enabled).toBe(enabled);
    expect(isExtensionEnabled(extension)).toBe(expected);
  });

  it('reads an extension without enabled as not enabled', () => {
    expect(isExtensionEnabled({})).toBe(false);
  });

  it('accepts expires as a numeric string and reads it as a number', () => {
    const token = parseTokenResponse({ token: 'EXAMPLE-TOKEN-NOT-REAL', expires: '1700003600000' });
    expect(token.expires).toBe('1700003600000');
    expect(tokenExpiresAt(token)).toBe(1700003600000);
  });

  it('accepts a token response without ssl', () => {
    expect(parseTokenResponse({ token: 't', expires: 1 }).ssl).toBeUndefined();
  });

  it('accepts a new service type, provider, state, isolation and load balancing', () => {
    const service = completedJob().result.service;
    Object.assign(service, {
      type: 'KnowledgeGraphServer',
      provider: 'Cloud',
      configuredState: 'PAUSED',
      isolationLevel: 'SHARED',
      loadBalancing: 'LEAST_CONNECTIONS',
    });
    const parsed = parseService(service);
    expect(parsed.type).toBe('KnowledgeGraphServer');
    expect(parsed.provider).toBe('Cloud');
    expect(parsed.configuredState).toBe('PAUSED');
    expect(parsed.isolationLevel).toBe('SHARED');
    expect(parsed.loadBalancing).toBe('LEAST_CONNECTIONS');
  });

  it('accepts a minimal service: only serviceName and type', () => {
    expect(parseService({ serviceName: 'S', type: 'MapServer' }).serviceName).toBe('S');
  });

  it('accepts a FAILED job with messages as a normal value', () => {
    const body = completedJob();
    body.status = 'FAILED';
    body.messages = ['Service failed to start.'];
    delete body.result;
    const job = parseJob(body);
    expect(job.messages).toEqual(['Service failed to start.']);
    expect(statusKind(job.status)).toBe('terminal');
  });

  it('accepts backup stages in the result', () => {
    const body = completedJob();
    body.result = {
      stages: [
        {
          name: 'Validation',
          state: 'completed',
          duration: '3096 millis (~ 0 minutes)',
          lastUpdated: 1635285646933,
        },
      ],
    };
    expect(resultObject(parseJob(body))?.stages?.[0]?.name).toBe('Validation');
  });

  it('recognises both canonical job id forms, and safe ids of other forms', () => {
    expect(isCanonicalJobId('j47c0c626-7188-4053-be06-ae93de987b01')).toBe(true);
    expect(isCanonicalJobId('j0123456789ABCDEF0123456789abcdef')).toBe(true);
    expect(isCanonicalJobId('job_1')).toBe(false);
    expect(isCanonicalJobId('47c0c626-7188-4053-be06-ae93de987b01')).toBe(false);
  });
});
