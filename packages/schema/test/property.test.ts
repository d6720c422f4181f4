import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { completedJob, fixture, fixtureNames } from './fixtures.js';

type Fn = (input: unknown) => unknown;
type SafeFn = (input: unknown) => { success: boolean };

// Every parse*/safeParse* the package exports, found by name so a new one is covered too.
// parseOperationUri reads a string for display and never throws: it is checked on its own.
const exported = Object.entries(api as Record<string, unknown>);
const parsers = exported.filter(
  (e): e is [string, Fn] =>
    /^parse[A-Z]/.test(e[0]) && e[0] !== 'parseOperationUri' && typeof e[1] === 'function',
);
const safeParsers = exported.filter(
  (e): e is [string, SafeFn] => /^safeParse[A-Z]/.test(e[0]) && typeof e[1] === 'function',
);

/**
 * Calls `fn`; passes if it returns, or throws a one-line SchemaError (a JobRefError for
 * parseJobRef, which reads URLs, not bodies).
 */
function onlySchemaErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (error instanceof api.JobRefError) {
      expect(error.code).toBe('BAD_JOB_URL');
      expect(error.message).not.toMatch(/[\n\r]/);
      return;
    }
    if (!(error instanceof api.SchemaError)) throw error;
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.message).not.toMatch(/[\n\r]/);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: a JSON tree walked and rebuilt freely.
type Json = any;

/** Every path (list of keys) inside a JSON value, the root included. */
function pathsOf(value: Json, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (value === null || typeof value !== 'object') return out;
  const entries: [string | number, Json][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  for (const [key, child] of entries) out.push(...pathsOf(child, [...at, key]));
  return out;
}

type Mutation =
  | { op: 'replace'; at: number; value: Json }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: Json };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: fc.jsonValue() }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('add' as const),
    at: fc.nat(),
    key: fc.string(),
    value: fc.jsonValue(),
  }),
);

/** Applies mutations to a copy of `body`, each at a path chosen among the current paths. */
function mutate(body: Json, mutations: readonly Mutation[]): Json {
  let root = structuredClone(body);
  for (const m of mutations) {
    const paths = pathsOf(root);
    const path = paths[m.at % paths.length]!;
    if (path.length === 0) {
      if (m.op === 'replace') root = m.value;
      continue;
    }
    const parent = path.slice(0, -1).reduce((node, key) => node[key], root);
    const key = path[path.length - 1]!;
    if (m.op === 'replace') parent[key] = m.value;
    else if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else {
      const target = parent[key];
      if (target && typeof target === 'object' && !Array.isArray(target)) target[m.key] = m.value;
    }
  }
  return root;
}

const validBodies = [...fixtureNames.map((n) => fixture(n)), completedJob().result.service];

describe('property: bad input never breaks a parser', () => {
  it('finds the parsers it checks', () => {
    expect(parsers.map(([n]) => n)).toEqual(
      expect.arrayContaining([
        'parseJob',
        'parseService',
        'parseJobId',
        'parseSnapshot',
        'parseJobHandle',
      ]),
    );
    expect(safeParsers.length).toBeGreaterThanOrEqual(10);
  });

  it('every parse* has a safeParse* twin, as the README promises', () => {
    const safe = new Set(safeParsers.map(([n]) => n));
    const all = exported.filter(([n, f]) => /^parse[A-Z]/.test(n) && typeof f === 'function');
    for (const [name] of all) expect(safe.has(`safeP${name.slice(1)}`), name).toBe(true);
  });

  it('parse* throws nothing but a SchemaError on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        for (const [, parse] of parsers) onlySchemaErrors(() => parse(value));
      }),
    );
  });

  it('parse* throws nothing but a SchemaError on any JavaScript value', () => {
    fc.assert(
      fc.property(
        fc.anything({ withNullPrototype: true, withBigInt: true, withMap: true, withDate: true }),
        (value) => {
          for (const [, parse] of parsers) onlySchemaErrors(() => parse(value));
        },
      ),
    );
  });

  it('parse* throws nothing but a SchemaError on mutated valid bodies', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...validBodies),
        fc.array(mutation, { minLength: 1, maxLength: 5 }),
        (body, mutations) => {
          const input = mutate(body, mutations);
          for (const [, parse] of parsers) onlySchemaErrors(() => parse(input));
        },
      ),
    );
  });

  it('safeParse* never throws, and agrees with parse*', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc
            .tuple(fc.constantFrom(...validBodies), fc.array(mutation, { maxLength: 4 }))
            .map(([body, ms]) => mutate(body, ms)),
        ),
        (value) => {
          for (const [name, safeParse] of safeParsers) {
            const result = safeParse(value);
            const parse = (api as unknown as Record<string, Fn>)[name.replace(/^safeP/, 'p')]!;
            let threw = false;
            try {
              parse(value);
            } catch {
              threw = true;
            }
            expect(result.success).toBe(!threw);
          }
        },
      ),
    );
  });

  it('parsing never changes its input', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...validBodies),
        fc.array(mutation, { maxLength: 4 }),
        (body, mutations) => {
          const input = mutate(body, mutations);
          const before = structuredClone(input);
          for (const [, safeParse] of safeParsers) safeParse(input);
          expect(input).toEqual(before);
        },
      ),
    );
  });

  it('readErrorBody, jobIdFromHandle and parseOperationUri never throw anything unexpected', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (value, text) => {
        api.readErrorBody(value);
        api.parseOperationUri(text);
        const handle = api.safeParseJobHandle(value);
        if (handle.success) expect(api.isJobId(api.jobIdFromHandle(handle.data))).toBe(true);
      }),
    );
  });
});

/** Field names of the job, its result and its service: where tolerance is put to work. */
const JOB_FIELDS = [
  'starttime',
  'endtime',
  'updatedtime',
  'operationURI',
  'username',
  'result',
  'messages',
] as const;

/** Any value at all that a JSON body can hold, weighted towards the shapes servers vary. */
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string(),
  fc.integer().map(String),
  fc.constantFrom(null, true, 'true', '', [], {}),
  fc.array(fc.oneof(fc.string(), fc.record({ type: fc.jsonValue(), description: fc.jsonValue() }))),
);

/** A job body with a valid jobid and status, and anything at all everywhere else. */
const tolerableJob = fc
  .tuple(
    fc.stringMatching(/^[A-Za-z0-9_-]{1,128}$/),
    fc.oneof(
      fc.constantFrom(...api.KNOWN_JOB_STATUSES, 'completed', 'Error', 'QUEUED'),
      fc.string(),
    ),
    fc.constantFrom(...validBodies),
    fc.array(mutation, { maxLength: 6 }),
    fc.dictionary(fc.constantFrom(...JOB_FIELDS), anyJson),
    fc.dictionary(fc.string(), anyJson, { maxKeys: 3 }),
  )
  .map(([jobid, status, base, mutations, fields, extra]) => {
    const mutated = mutate(base, mutations);
    const body =
      typeof mutated === 'object' && mutated !== null && !Array.isArray(mutated) ? mutated : {};
    return { ...body, ...extra, ...fields, jobid, status };
  });

describe('property: a body with a valid jobid and status is always read', () => {
  it('parseJob never throws, whatever else the body holds', () => {
    fc.assert(
      fc.property(tolerableJob, (body) => {
        const result = api.safeParseJob(body);
        expect(result.success, result.success ? '' : result.error.message).toBe(true);
        if (!result.success) return;
        const job = api.parseJob(body, { jobid: body.jobid });
        expect(job.jobid).toBe(body.jobid);
        expect(job.status).toBe(body.status);
        // What comes out is in its documented shape, and a snapshot can carry it.
        const snapshot = api.makeSnapshot({
          deployment: 'd',
          jobid: body.jobid,
          job: result.data,
          firstSeen: 1,
          lastPolled: 1,
          lastChanged: 1,
          warnings: result.warnings,
        });
        expect(api.safeParseSnapshot(JSON.parse(JSON.stringify(snapshot))).success).toBe(true);
        for (const w of result.warnings) {
          expect(w.pointer.startsWith('/')).toBe(true);
          expect(w.found).not.toMatch(/[\n\r]/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the job list, handles, services and site info never throw on an object of their kind', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), anyJson),
        fc.array(anyJson),
        fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
        (fields, list, jobid) => {
          expect(api.safeParseJobList({ ...fields, jobs: list }).success).toBe(true);
          expect(api.safeParseServiceList({ ...fields, services: list }).success).toBe(true);
          expect(api.safeParseJobHandle({ ...fields, jobid }).success).toBe(true);
          expect(api.safeParseService(fields).success).toBe(true);
          expect(api.safeParseSiteInfo(fields).success).toBe(true);
        },
      ),
    );
  });
});

describe('property: job ids', () => {
  const safeChar = /^[A-Za-z0-9_-]$/;
  const isSafe = (s: string) =>
    s.length >= 1 && s.length <= api.MAX_JOB_ID_LENGTH && [...s].every((c) => safeChar.test(c));

  it('accepts every id of 1–128 letters, digits, "-" and "_"', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,128}$/), (id) => {
        expect(api.parseJobId(id)).toBe(id);
        expect(api.isJobId(id)).toBe(true);
      }),
    );
  });

  it('accepts exactly the safe alphabet, whatever the string', () => {
    const anyString = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 140 }),
      fc.string({ unit: fc.constantFrom(...'aZ09-_./%?#& \t\n\u0000\u007fé'), maxLength: 140 }),
      fc.string({ unit: 'grapheme-ascii', minLength: 120, maxLength: 135 }),
    );
    fc.assert(
      fc.property(anyString, (s) => {
        expect(api.isJobId(s)).toBe(isSafe(s));
        const result = (() => {
          try {
            return api.parseJobId(s);
          } catch (error) {
            expect(error).toBeInstanceOf(api.SchemaError);
            expect((error as api.SchemaError).code).toBe('INVALID_JOB_ID');
            return undefined;
          }
        })();
        expect(result !== undefined).toBe(isSafe(s));
      }),
    );
  });

  it('is never a URL-changing string once accepted', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        if (!api.isJobId(s)) return;
        expect(encodeURIComponent(s)).toBe(s);
        expect(s).not.toMatch(/^\.{1,2}$/);
      }),
    );
  });
});
