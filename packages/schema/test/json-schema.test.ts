import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import {
  DIALECT,
  fileNameOf,
  GEN_COMMAND,
  JSON_SCHEMA_KINDS,
  type JsonSchemaKind,
  jsonSchemaFiles,
} from '../scripts/json-schemas.js';
import { makeSnapshot, parseJob } from '../src/index.js';
import { completedJob, fixture, sourceFixture } from './fixtures.js';

const dir = new URL('../json/', import.meta.url);
const kinds = Object.keys(JSON_SCHEMA_KINDS) as JsonSchemaKind[];
const read = (kind: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(fileNameOf(kind), dir), 'utf8'));

describe('committed JSON Schema files', () => {
  it('are exactly the generated set (no file missing, none left over)', () => {
    const committed = readdirSync(dir)
      .filter((f) => f.endsWith('.schema.json'))
      .sort();
    expect(committed, `json/ differs from the schemas: run \`${GEN_COMMAND}\``).toEqual(
      [...jsonSchemaFiles().keys()].sort(),
    );
  });

  it.each([...jsonSchemaFiles()])('%s matches the TypeBox definitions', (name, generated) => {
    let committed = '';
    try {
      committed = readFileSync(new URL(name, dir), 'utf8');
    } catch {
      // compared below, so the message names the command
    }
    expect(committed, `json/${name} is out of date: run \`${GEN_COMMAND}\``).toBe(generated);
  });

  it.each(kinds)('%s carries $schema, $id, title and description', (kind) => {
    const doc = read(kind);
    expect(doc.$schema).toBe(DIALECT);
    expect(doc.$id).toBe(`https://jobwatch.dev/schema/${kind}.schema.json`);
    expect(typeof doc.title).toBe('string');
    expect(String(doc.description).length).toBeGreaterThan(20);
  });
});

/** Bodies each file must accept, and one it must refuse. */
const samples: Record<JsonSchemaKind, { valid: unknown[]; invalid: unknown }> = {
  job: {
    valid: [
      fixture('job-completed-edit'),
      fixture('job-executing'),
      { jobid: 'j1', status: 'SUBMITTED' },
      {
        jobid: 'j1',
        status: 'FAILED',
        username: null,
        result: 'Service failed to start.',
        messages: ['a', { type: 'esriJobMessageTypeError', description: 'b' }],
      },
    ],
    invalid: { ...completedJob(), jobid: '../services' },
  },
  'job-list': { valid: [fixture('jobs-list')], invalid: { jobs: [1] } },
  'job-handle': {
    valid: [fixture('handle-backup-create'), fixture('handle-stop-async')],
    invalid: { jobID: 7 },
  },
  'admin-success': { valid: [fixture('admin-success')], invalid: { status: 'error' } },
  'rest-error': {
    valid: [fixture('error-invalid-token'), fixture('error-token-required')],
    invalid: { error: 'Invalid token.' },
  },
  'admin-error': {
    valid: [fixture('admin-error-token-not-found')],
    invalid: { status: 'success' },
  },
  'server-job': {
    valid: [sourceFixture('server-job-completed-error'), { jobid: 'j1', status: 'EXECUTING' }],
    invalid: { jobid: 'j1' },
  },
  'gp-job': {
    valid: [
      sourceFixture('gp-job-succeeded'),
      sourceFixture('gp-job-executing'),
      sourceFixture('gp-submit'),
    ],
    invalid: { jobId: 'j1', jobStatus: 'esriJobSucceeded', results: { a: { paramUrl: 5 } } },
  },
  'item-status': {
    valid: [sourceFixture('item-status-partial'), sourceFixture('item-status-failed')],
    invalid: { statusMessage: 'processing' },
  },
  token: {
    valid: [fixture('token'), { token: 't', expires: '1700003600000' }],
    invalid: { token: 't', expires: 'tomorrow' },
  },
  service: {
    valid: [
      completedJob().result.service,
      { serviceName: 'S', type: 'NewServer' },
      { serviceName: 'S', properties: { maxRecordCount: 1000, isCached: true } },
    ],
    invalid: { ...completedJob().result.service, properties: { maxRecordCount: { n: 1 } } },
  },
  'service-list': {
    valid: [
      {
        folderName: '/',
        folders: ['Utilities'],
        services: [{ serviceName: 'S', type: 'MapServer' }],
      },
    ],
    invalid: { services: [{ type: 5 }] },
  },
  'site-info': {
    valid: [{ currentVersion: '11.3', resources: ['services', 'jobs'] }, {}],
    invalid: { resources: 'jobs' },
  },
  snapshot: {
    valid: [
      makeSnapshot({
        deployment: 'default',
        jobid: 'j47c0c626-7188-4053-be06-ae93de987b01',
        job: parseJob(completedJob()),
        firstSeen: 1,
        lastPolled: 2,
        lastChanged: 2,
      }),
      makeSnapshot({
        deployment: 'd',
        jobid: 'j1',
        job: null,
        firstSeen: 1,
        lastPolled: null,
        lastChanged: 1,
      }),
    ],
    invalid: { deployment: 'd', jobid: 'j1', status: null },
  },
  'backup-stage': {
    valid: [
      {
        name: 'Validation',
        state: 'completed',
        duration: '3096 millis (~ 0 minutes)',
        lastUpdated: 1635285646933,
      },
    ],
    invalid: { name: 5 },
  },
};

describe('the files, used by a fresh ajv that knows nothing of jobwatch', () => {
  it.each(kinds)('%s compiles in strict mode and judges its samples', (kind) => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    const validate = ajv.compile(read(kind));
    for (const body of samples[kind].valid) {
      expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    }
    expect(validate(samples[kind].invalid)).toBe(false);
  });
});
