import { readFileSync } from 'node:fs';
import type { ErrorObject } from 'ajv';
import fc from 'fast-check';
import type { TSchema } from 'typebox';
import { describe, expect, it, vi } from 'vitest';
import {
  GEN_VALIDATORS_COMMAND,
  PRECOMPILED_SCHEMAS,
  type PrecompiledName,
  VALIDATORS_FILE,
  validatorsModule,
} from '../scripts/validators.js';
import * as generated from '../src/generated/validators.js';
import type { Precompiled } from '../src/validate.js';
import { completedJob, fixture } from './fixtures.js';

// Vitest gives each test file fresh modules, so this file sees the package's first import.
const internals = await import('../src/compile.js');
const pkg = await import('../src/index.js');

const snapshotBody = () =>
  pkg.makeSnapshot({
    deployment: 'default',
    jobid: 'j47c0c626-7188-4053-be06-ae93de987b01',
    job: pkg.parseJob(completedJob()),
    firstSeen: 1,
    lastPolled: 2,
    lastChanged: 2,
  });

/** Every parse function on a good body, a wrong value deep inside, and a non-object. */
function parseEverything(): void {
  const service = () => completedJob().result.service;
  const calls: [(input: unknown) => unknown, unknown, unknown][] = [
    [pkg.parseJob, completedJob(), { ...completedJob(), status: 42 }],
    [pkg.parseJobList, fixture('jobs-list'), { jobs: [1] }],
    [pkg.parseJobHandle, fixture('handle-stop-async'), { jobID: 7 }],
    [pkg.parseAdminSuccess, fixture('admin-success'), { status: 'error' }],
    [pkg.parseTokenResponse, fixture('token'), { token: '', expires: 'soon' }],
    [pkg.parseSiteInfo, { currentVersion: '11.3' }, { resources: 'jobs' }],
    [pkg.parseRestErrorBody, fixture('error-invalid-token'), { error: 'e' }],
    [pkg.parseAdminErrorBody, fixture('admin-error-token-not-found'), { status: 'success' }],
    [pkg.parseService, service(), { ...service(), properties: { maxRecordCount: 1 } }],
    [pkg.parseServiceList, { services: [{ serviceName: 'S', type: 'MapServer' }] }, {}],
    [pkg.parseSnapshot, snapshotBody(), { ...snapshotBody(), job: { status: 'X' } }],
  ];
  for (const [parse, good, bad] of calls) {
    expect(() => parse(good)).not.toThrow();
    expect(() => parse(bad)).toThrow(pkg.SchemaError);
    expect(() => parse(42)).toThrow(pkg.SchemaError);
  }
  pkg.readErrorBody({ status: 'error', messages: ['m'] });
  pkg.readErrorBody({ error: { code: 498, message: 'Invalid token.' } });
}

describe('the precompiled validators', () => {
  it(`match the schemas (after changing a schema, run \`${GEN_VALIDATORS_COMMAND}\`)`, () => {
    const committed = readFileSync(new URL(`../${VALIDATORS_FILE}`, import.meta.url), 'utf8');
    // Compared as booleans first: a 150 KB diff helps nobody, the command does.
    const same = committed === validatorsModule();
    expect(same, `${VALIDATORS_FILE} is out of date: run \`${GEN_VALIDATORS_COMMAND}\``).toBe(true);
  });

  it('importing and parsing compile nothing; validatorFor compiles once, on first use', () => {
    expect(internals.compilationCount()).toBe(0);
    parseEverything();
    pkg.parseJobId('j1');
    pkg.statusKind('COMPLETED');
    pkg.parseOperationUri('/a/admin/services/S.MapServer/edit');
    expect(internals.compilationCount()).toBe(0);

    const validate = pkg.validatorFor(pkg.JobSchema);
    expect(internals.compilationCount()).toBe(1);
    expect(pkg.validatorFor(pkg.JobSchema)).toBe(validate);
    expect(internals.compilationCount()).toBe(1);
    expect(validate(completedJob())).toBe(true);
  });

  it('parsing evaluates no code: it works with Function and eval forbidden, as under a strict CSP', () => {
    const g = globalThis as Record<string, unknown>;
    const real = { Function: g.Function as FunctionConstructor, eval: g.eval };
    const refuse = () => {
      throw new EvalError('code evaluation refused (no unsafe-eval)');
    };
    g.Function = new Proxy(real.Function, { construct: refuse, apply: refuse });
    g.eval = refuse;
    try {
      parseEverything();
      // The trap works: compiling a schema (what the parse path used to do) is refused.
      const fresh: TSchema = { ...pkg.JobListSchema };
      const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
      expect(() => pkg.validatorFor(fresh)).toThrow(EvalError);
      quiet.mockRestore();
    } finally {
      g.Function = real.Function;
      g.eval = real.eval;
    }
  });
});

/** ajv's `schemaPath` of the schema holding the keyword. */
const parentOf = (schemaPath: string) => schemaPath.slice(0, schemaPath.lastIndexOf('/'));

/** A JSON body with random values, shallow mutations of a real one, or any JSON at all. */
const bodies: Record<PrecompiledName, () => unknown> = {
  job: completedJob,
  jobList: () => fixture('jobs-list'),
  jobHandle: () => fixture('handle-backup-create'),
  adminSuccess: () => fixture('admin-success'),
  tokenResponse: () => fixture('token'),
  siteInfo: () => ({ currentVersion: '11.3', resources: ['jobs'] }),
  restErrorBody: () => fixture('error-invalid-token'),
  adminErrorBody: () => fixture('admin-error-token-not-found'),
  service: () => completedJob().result.service,
  serviceList: () => ({ folders: ['U'], services: [{ serviceName: 'S', type: 'MapServer' }] }),
  snapshot: snapshotBody,
};

/** Replaces the value at one of the body's paths (chosen by `at`) with `value`. */
function replaceSomewhere(body: unknown, at: number, value: unknown): unknown {
  const holders: [Record<string, unknown>, string][] = [];
  const walk = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return;
    for (const [key, child] of Object.entries(node)) {
      holders.push([node as Record<string, unknown>, key]);
      walk(child);
    }
  };
  walk(body);
  if (holders.length === 0) return value;
  const [holder, key] = holders[at % holders.length]!;
  if (value === undefined) delete holder[key];
  else holder[key] = value;
  return body;
}

const precompiled: Readonly<Record<PrecompiledName, Precompiled>> = { ...generated };

describe('precompiled and runtime-compiled validators agree', () => {
  const names = Object.keys(PRECOMPILED_SCHEMAS) as PrecompiledName[];
  it.each(names)('%s: same verdict, same errors, same words for every failing schema', (name) => {
    const runtime = pkg.validatorFor(PRECOMPILED_SCHEMAS[name]);
    const ahead = precompiled[name];
    fc.assert(
      fc.property(
        fc.nat(),
        fc.oneof(fc.jsonValue(), fc.constant(undefined)),
        fc.boolean(),
        (at, value, whole) => {
          const body = whole ? value : replaceSomewhere(bodies[name](), at, value);
          const verdict = ahead.validate(body);
          expect(verdict).toBe(runtime(body));
          if (verdict) return;
          const strip = ({ instancePath, schemaPath, keyword, params }: ErrorObject) => ({
            instancePath,
            schemaPath,
            keyword,
            params,
          });
          expect((ahead.validate.errors ?? []).map(strip)).toEqual(
            (runtime.errors ?? []).map(strip),
          );
          for (const e of runtime.errors ?? []) {
            expect(ahead.expected[parentOf(e.schemaPath)]).toBe(pkg.describeSchema(e.parentSchema));
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
