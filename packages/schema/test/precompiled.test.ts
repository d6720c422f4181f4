import { readdirSync, readFileSync } from 'node:fs';
import type { ErrorObject } from 'ajv';
import fc from 'fast-check';
import type { TSchema } from 'typebox';
import { describe, expect, it, vi } from 'vitest';
import {
  GEN_VALIDATORS_COMMAND,
  PRECOMPILED_SCHEMAS,
  type PrecompiledName,
  VALIDATORS_DIR,
  validatorModules,
} from '../scripts/validators.js';
import { adminErrorBody } from '../src/generated/adminErrorBody.js';
import { adminSuccess } from '../src/generated/adminSuccess.js';
import { gpJob } from '../src/generated/gpJob.js';
import { itemStatus } from '../src/generated/itemStatus.js';
import { job } from '../src/generated/job.js';
import { jobHandle } from '../src/generated/jobHandle.js';
import { jobList } from '../src/generated/jobList.js';
import { restErrorBody } from '../src/generated/restErrorBody.js';
import { serverJob } from '../src/generated/serverJob.js';
import { service } from '../src/generated/service.js';
import { serviceList } from '../src/generated/serviceList.js';
import { siteInfo } from '../src/generated/siteInfo.js';
import { snapshot } from '../src/generated/snapshot.js';
import { tokenResponse } from '../src/generated/tokenResponse.js';
import { watchJobRequest } from '../src/generated/watchJobRequest.js';
import { watchRequest } from '../src/generated/watchRequest.js';
import { RepairRun, tolerantParser } from '../src/tolerant.js';
import { expectedOf, type Precompiled, requiredPath } from '../src/validate.js';
import { completedJob, fixture, sourceFixture } from './fixtures.js';

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

/**
 * Every parse function on a good body, a body with values in other shapes (tolerated, with
 * warnings, where the parser is tolerant), a body it refuses, and a non-object.
 */
function parseEverything(): void {
  const service = () => completedJob().result.service;
  const calls: [(input: unknown) => unknown, unknown, unknown, unknown][] = [
    [
      pkg.parseJob,
      completedJob(),
      { ...completedJob(), starttime: '1', messages: 'm' },
      { ...completedJob(), status: 42 },
    ],
    [pkg.parseJobList, fixture('jobs-list'), { jobs: ['j1', 1] }, { jobs: 'j1' }],
    [pkg.parseJobHandle, fixture('handle-stop-async'), { jobid: 'j1', jobsUrl: 5 }, { jobID: 7 }],
    [pkg.parseAdminSuccess, fixture('admin-success'), undefined, { status: 'error' }],
    [pkg.parseTokenResponse, fixture('token'), undefined, { token: '', expires: 'soon' }],
    [pkg.parseSiteInfo, { currentVersion: '11.3' }, { resources: 'jobs' }, ['x']],
    [pkg.parseRestErrorBody, fixture('error-invalid-token'), undefined, { error: 'e' }],
    [
      pkg.parseAdminErrorBody,
      fixture('admin-error-token-not-found'),
      undefined,
      { status: 'success' },
    ],
    [pkg.parseService, service(), { ...service(), maxIdleTime: '5' }, [service()]],
    [
      pkg.parseServiceList,
      { services: [{ serviceName: 'S', type: 'MapServer' }] },
      { services: [{ serviceName: 5 }] },
      {},
    ],
    [pkg.parseSnapshot, snapshotBody(), undefined, { ...snapshotBody(), job: { status: 'X' } }],
  ];
  for (const [parse, good, tolerated, bad] of calls) {
    expect(() => parse(good)).not.toThrow();
    if (tolerated !== undefined) expect(() => parse(tolerated)).not.toThrow();
    expect(() => parse(bad)).toThrow(pkg.SchemaError);
    expect(() => parse(42)).toThrow(pkg.SchemaError);
  }
  pkg.readErrorBody({ status: 'error', messages: ['m'] });
  pkg.readErrorBody({ error: { code: 498, message: 'Invalid token.' } });
}

describe('the precompiled validators', () => {
  const dir = new URL(`../${VALIDATORS_DIR}`, import.meta.url);
  const modules = validatorModules();

  it(`are exactly the generated set (else run \`${GEN_VALIDATORS_COMMAND}\`)`, () => {
    const committed = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(committed.sort()).toEqual([...modules.keys()].sort());
  });

  it.each([...modules])('%s matches its schema', (name, generated) => {
    let committed = '';
    try {
      committed = readFileSync(new URL(name, dir), 'utf8');
    } catch {
      // compared below, so the message names the command
    }
    // Compared as a boolean: a long diff of generated code helps nobody, the command does.
    const same = committed === generated;
    const message = `${VALIDATORS_DIR}${name} is out of date: run \`${GEN_VALIDATORS_COMMAND}\``;
    expect(same, message).toBe(true);
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
  watchRequest: () => ({ jobid: 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d', deployment: 'default' }),
  watchJobRequest: () => ({
    ref: { source: 'gp', taskUrl: 'https://h/arcgis/rest/services/T/GPServer/T', jobid: 'j1' },
  }),
  serverJob: () => sourceFixture('server-job-completed-error'),
  gpJob: () => sourceFixture('gp-job-succeeded'),
  itemStatus: () => sourceFixture('item-status-failed'),
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

// Typed as a full record: a validator added to the generator and missing here fails typecheck.
const precompiled: Record<PrecompiledName, Precompiled> = {
  job,
  jobList,
  jobHandle,
  adminSuccess,
  tokenResponse,
  siteInfo,
  restErrorBody,
  adminErrorBody,
  service,
  serviceList,
  snapshot,
  watchRequest,
  watchJobRequest,
  serverJob,
  gpJob,
  itemStatus,
};

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
          // ajv's messages are left out of the precompiled errors; the rest is the same.
          const strip = ({ instancePath, schemaPath, keyword, params }: ErrorObject) => ({
            instancePath,
            schemaPath,
            keyword,
            params,
          });
          expect((ahead.validate.errors ?? []).map(strip)).toEqual(
            (runtime.errors ?? []).map(strip),
          );
          // The words for each failing schema are those describeSchema gives the schema itself.
          for (const e of runtime.errors ?? []) {
            if (e.keyword === 'required') {
              const prop = (e.params as { missingProperty: string }).missingProperty;
              const props = (e.parentSchema as { properties: Record<string, unknown> }).properties;
              expect(ahead.expected[requiredPath(e.schemaPath, prop)]).toBe(
                pkg.describeSchema(props[prop]),
              );
            } else {
              expect(expectedOf(e, ahead.expected)).toBe(pkg.describeSchema(e.parentSchema));
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('what a bundle that only parses pulls in', () => {
  const src = new URL('../src/', import.meta.url);
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && !f.startsWith('generated'),
  );
  /** Every `import` (not `import type`) of a module, with the names it takes. */
  const valueImports = (file: string) =>
    [
      ...readFileSync(new URL(file, src), 'utf8').matchAll(
        /^import (?!type )([^;]*?) from '([^']+)';/gms,
      ),
    ]
      .map((m) => ({ names: m[1] as string, from: m[2] as string }))
      // `import { type A, type B } from` takes types only.
      .filter(({ names }) => !/^\{(\s*type \w+,?)+\s*\}$/.test(names));

  it.each(files.filter((f) => !f.startsWith('schemas/') && f !== 'index.ts'))(
    '%s takes no value from the TypeBox definitions (src/schemas/)',
    (file) => {
      const offending = valueImports(file).filter(({ from }) => from.includes('schemas/'));
      expect(offending).toEqual([]);
    },
  );

  it.each(files.filter((f) => !f.startsWith('schemas/') && f !== 'compile.ts'))(
    '%s imports neither typebox nor ajv at runtime',
    (file) => {
      const offending = valueImports(file).filter(({ from }) => /^(typebox|ajv)(\/|$)/.test(from));
      expect(offending).toEqual([]);
    },
  );
});

describe('the generated repairers of the tolerant parsers', () => {
  const tolerant: Record<string, Precompiled> = {
    job,
    jobList,
    jobHandle,
    siteInfo,
    service,
    serviceList,
    serverJob,
    gpJob,
    itemStatus,
  };
  const exactOf: Record<string, (pointer: string) => boolean> = {
    job: (p) => p === '/jobid' || p === '/status',
    serverJob: (p) => p === '/jobid' || p === '/status',
    gpJob: (p) => p === '/jobId' || p === '/jobStatus',
    itemStatus: (p) => p === '/status',
    jobList: (p) => p === '/jobs',
    serviceList: (p) => p === '/services',
  };

  it('exist for exactly the tolerant parsers', () => {
    for (const [name, compiled] of Object.entries(precompiled)) {
      expect(typeof compiled.repair === 'function', name).toBe(name in tolerant);
    }
  });

  it.each(Object.keys(tolerant))(
    '%s: a body the repairer does not refuse passes the validator, and the input is unchanged',
    (name) => {
      const compiled = tolerant[name] as Precompiled;
      const exact = exactOf[name] ?? (() => false);
      fc.assert(
        fc.property(fc.nat(), fc.oneof(fc.jsonValue(), fc.constant(undefined)), (at, value) => {
          const body = replaceSomewhere(bodies[name as PrecompiledName](), at, value);
          const before = structuredClone(body);
          const run = new RepairRun(exact);
          const repaired = compiled.repair?.(body, '', run);
          expect(body).toEqual(before);
          if (run.fatal) return;
          expect(compiled.validate(repaired), JSON.stringify(compiled.validate.errors)).toBe(true);
          // Nothing changed means nothing was copied and nothing was said.
          if (compiled.validate(body)) {
            expect(repaired).toBe(body);
            expect(run.warnings).toEqual([]);
          }
        }),
        { numRuns: 200 },
      );
    },
  );

  it('the repair from the errors, used when a repairer falls short, reads bodies the same way', () => {
    const fromErrors = tolerantParser<unknown>(
      'job',
      { validate: job.validate, expected: job.expected },
      { exact: (p) => p === '/jobid' || p === '/status' },
    );
    fc.assert(
      fc.property(fc.nat(), fc.jsonValue(), (at, value) => {
        const body = replaceSomewhere(completedJob(), at, value);
        const a = pkg.safeParseJob(body);
        const b = fromErrors.safeParse(body);
        expect(b.success).toBe(a.success);
        if (!a.success || !b.success) return;
        expect(JSON.parse(JSON.stringify(b.data))).toEqual(JSON.parse(JSON.stringify(a.data)));
        // (The unknown-status warning is the job parser's own check, not a repair.)
        expect(b.warnings.map((w) => w.pointer).sort()).toEqual(
          a.warnings
            .map((w) => w.pointer)
            .filter((p) => p !== '/status')
            .sort(),
        );
      }),
      { numRuns: 300 },
    );
  });
});
