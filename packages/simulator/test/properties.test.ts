import { isTerminalStatus, type Job, parseJob } from '@jobwatch/schema';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GP_JOB_ENDS,
  JOB_ENDS,
  SERVER_JOB_ENDS,
  type Simulator,
  startSimulator,
} from '../src/index.js';
import { getJson, raw } from './helpers.js';

/** A simulator's job body: its times are always there. */
type Timed = Job & { starttime: number; updatedtime: number; endtime: number };

let sim: Simulator;
let token: string;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 99, maxBodyBytes: 4096 });
  token = sim.issueToken('admin', 10 * 365 * 24 * 3_600_000);
});
afterAll(() => sim.close());

describe('properties', () => {
  it('every job walks from SUBMITTED to its end, with times that only move forward', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...JOB_ENDS),
        fc.integer({ min: 0, max: 120_000 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.integer({ min: 1, max: 30_000 }), { minLength: 1, maxLength: 12 }),
        (outcome, durationMs, unavailableBlips, steps) => {
          const start = sim.now();
          const id = sim.createJob({ outcome, durationMs, unavailableBlips });
          let last = parseJob(sim.job(id)) as Timed;
          expect(last.starttime).toBe(start);
          expect(last.status).toBe(durationMs === 0 ? outcome : 'SUBMITTED');
          for (const step of [...steps, durationMs]) {
            sim.advance(step);
            const job = parseJob(sim.job(id)) as Timed;
            expect(job.updatedtime).toBeGreaterThanOrEqual(last.updatedtime);
            expect(job.updatedtime).toBeLessThanOrEqual(sim.now());
            if (job.status !== last.status)
              expect(job.updatedtime).toBeGreaterThan(last.updatedtime);
            if (isTerminalStatus(job.status)) {
              expect(job.status).toBe(outcome);
              expect(job.endtime).toBe(start + durationMs);
              expect(job.updatedtime).toBe(job.endtime);
            } else {
              expect(job.endtime).toBe(0);
              expect(['SUBMITTED', 'EXECUTING', 'UNAVAILABLE', 'CANCELLING']).toContain(job.status);
            }
            last = job;
          }
          expect(last.status).toBe(outcome);
          sim.purgeJob(id);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });

  it('every geoprocessing job walks forward to its end, with progress only while executing and never going back', async () => {
    const order = ['esriJobSubmitted', 'esriJobWaiting', 'esriJobExecuting', 'esriJobCancelling'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...GP_JOB_ENDS),
        fc.integer({ min: 0, max: 60_000 }),
        fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 8 }),
        async (outcome, durationMs, steps) => {
          const { jobUrl } = sim.createGpJob({ outcome, durationMs });
          let rank = -1;
          let percent = -1;
          for (const step of [0, ...steps, durationMs]) {
            sim.advance(step);
            const body = await getJson(jobUrl, { token });
            const at = order.indexOf(body.jobStatus);
            if (at < 0) {
              expect(body.jobStatus).toBe(outcome);
              rank = order.length;
            } else {
              expect(at).toBeGreaterThanOrEqual(rank);
              rank = at;
            }
            expect('progress' in body).toBe(body.jobStatus === 'esriJobExecuting');
            if (body.progress) {
              expect(body.progress.percentage).toBeGreaterThanOrEqual(percent);
              expect(body.progress.percentage).toBeLessThan(100);
              percent = body.progress.percentage;
            }
          }
          expect(rank).toBe(order.length);
        },
      ),
      { numRuns: 40, seed: 5 },
    );
  });

  it('every ArcGIS Server admin job counts its steps up, never past totalsteps, to its end', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SERVER_JOB_ENDS),
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 8 }),
        async (outcome, durationMs, count, steps) => {
          const { jobUrl } = sim.createServerJob({ outcome, durationMs, steps: count });
          let last = -1;
          for (const step of [0, ...steps, durationMs]) {
            sim.advance(step);
            const body = await getJson(jobUrl, { token });
            expect(body.totalsteps).toBe(count);
            expect(body.currentstep).toBeGreaterThanOrEqual(last);
            expect(body.currentstep).toBeLessThanOrEqual(count);
            expect(body.stepInfo).toHaveLength(body.currentstep);
            last = body.currentstep;
          }
          const ended = outcome === 'COMPLETED_WITH_ERROR' ? 'COMPLETED' : outcome;
          expect(await getJson(jobUrl, { token })).toMatchObject({ status: ended });
        },
      ),
      { numRuns: 40, seed: 6 },
    );
  });

  it('any request line, path, query or body gets an answer, and the server keeps serving', async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        'arcgis',
        'admin',
        'jobs',
        'services',
        'sharing',
        'rest',
        'generateToken',
        '..',
        '.',
        '%2F',
        '%2e',
        '%',
        '%00',
        '__sim',
        'Hosted',
        'SampleWorldCities.MapServer',
        'edit',
        'stop',
        'server',
        'portal',
        'system',
        'tokens',
        'Tools',
        'Buffer',
        'GPServer',
        'BufferPoints',
        'submitJob',
        'cancel',
        'results',
        'inputs',
        'content',
        'users',
        'items',
        'status',
        '',
      ),
      fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
        fc.array(segment, { maxLength: 7 }),
        fc.string({ maxLength: 40 }),
        fc.option(fc.string({ maxLength: 6000 }), { nil: undefined }),
        fc.constantFrom(
          'application/x-www-form-urlencoded',
          'application/json',
          'text/plain',
          'multipart/form-data; boundary=x',
        ),
        async (method, segments, query, body, type) => {
          const path = `/${segments.join('/')}?${encodeURIComponent(query)}&token=${token}`;
          const r = await raw(sim.url, {
            method,
            path,
            ...(body === undefined ? {} : { body, headers: { 'content-type': type } }),
          });
          expect([200, 204, 400, 404, 405, 409, 413, 415]).toContain(r.status);
        },
      ),
      { numRuns: 300, seed: 11 },
    );
    expect((await raw(`${sim.adminUrl}/jobs?f=json&token=${token}`)).status).toBe(200);
  });
});
