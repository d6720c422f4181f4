/**
 * What real servers send, through the watcher: statuses in any case, ERROR, unknown statuses
 * reported to a hook, and the warnings, messages and reason carried on the snapshots.
 */
import type { Job, SchemaWarning, Snapshot } from '@jobwatch/schema';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  createWatcher,
  JobFailedError,
  type UnknownStatusEvent,
  type WatcherOptions,
  waitForJob,
} from '../src/index.js';
import { FakeServer, job, type Script } from './fake.js';

const ID = 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d';

const newScheduler = () => {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  scheduler.maxFrames = Number.POSITIVE_INFINITY;
  return scheduler;
};

function run(script: Script, options: WatcherOptions = {}): Snapshot[] {
  const scheduler = newScheduler();
  const out: Snapshot[] = [];
  scheduler.run(() => {
    const server = new FakeServer(scheduler);
    server.scripts.set(ID, script);
    const watcher = createWatcher(server.client, {
      scheduler,
      pacing: { jitter: 0 },
      grace: 0,
      ...options,
    });
    watcher.watch(ID).subscribe((s) => out.push(s));
    scheduler.flush();
  });
  return out;
}

/** `[atMs, job]` steps, with the warnings of each read. */
function reads(steps: ReadonlyArray<readonly [number, Job, SchemaWarning[]?]>): Script {
  return (time) => {
    let current = steps[0]!;
    for (const step of steps) if (step[0] <= time) current = step;
    return { job: current[1], warnings: current[2] ?? [] };
  };
}

describe('statuses as real servers spell them', () => {
  it.each([
    ['completed', 'COMPLETED', 'succeeded'],
    ['Failed', 'FAILED', 'failed'],
    ['ERROR', 'ERROR', 'failed'],
    ['error', 'ERROR', 'failed'],
    ['timed out', 'TIMED OUT', 'failed'],
  ])('a job that ends %j ends the watch as %s (%s)', (spelling, status, outcome) => {
    const out = run(
      reads([
        [0, job(ID, 'executing', 0)],
        [1500, job(ID, spelling, 1500)],
      ]),
    );
    expect(out.map((s) => s.status)).toEqual(['EXECUTING', status]);
    expect(out.at(-1)).toMatchObject({ terminal: true, outcome, kind: 'terminal' });
    expect(out.at(-1)?.job?.status).toBe(spelling);
  });

  it('an UNAVAILABLE spelled in lower case is passing trouble, not a status change', () => {
    const out = run(
      reads([
        [0, job(ID, 'EXECUTING', 0)],
        [1000, job(ID, 'unavailable', 1000)],
        [3000, job(ID, 'COMPLETED', 3000)],
      ]),
    );
    expect(out.map((s) => `${s.status}${s.stale ? '*' : ''}`)).toEqual([
      'EXECUTING',
      'EXECUTING*',
      'COMPLETED',
    ]);
  });
});

describe('unknown statuses are reported, never silent', () => {
  it('tells onUnknownStatus once per change, with the policy, and keeps watching', () => {
    const events: UnknownStatusEvent[] = [];
    const out = run(
      reads([
        [0, job(ID, 'SUBMITTED', 0)],
        [1000, job(ID, 'PAUSED', 1000)],
        [2000, job(ID, 'PAUSED', 2000)],
        [3000, job(ID, 'QUEUED', 3000)],
        [5000, job(ID, 'COMPLETED', 5000)],
      ]),
      { deployment: 'prod', onUnknownStatus: (e) => events.push(e) },
    );
    expect(events).toEqual([
      { deployment: 'prod', jobid: ID, status: 'PAUSED', policy: 'watch' },
      { deployment: 'prod', jobid: ID, status: 'QUEUED', policy: 'watch' },
    ]);
    expect(out.at(-1)?.status).toBe('COMPLETED');
  });

  it('a listener that throws costs nothing', () => {
    const out = run(
      reads([
        [0, job(ID, 'PAUSED', 0)],
        [1000, job(ID, 'COMPLETED', 1000)],
      ]),
      {
        onUnknownStatus: () => {
          throw new Error('boom');
        },
      },
    );
    expect(out.map((s) => s.status)).toEqual(['PAUSED', 'COMPLETED']);
  });

  it('refuses a hook that is not a function', () => {
    const { client } = new FakeServer(newScheduler());
    expect(() =>
      createWatcher(client, { onUnknownStatus: 'log' as unknown as () => void }),
    ).toThrow(/onUnknownStatus/);
  });
});

describe('warnings, messages and reason on the snapshots', () => {
  const warning: SchemaWarning = {
    pointer: '/starttime',
    expected: 'a number or null',
    found: '"soon"',
  };

  it('carries the warnings of the body it shows, and drops them when a later body has none', () => {
    const out = run(
      reads([
        [0, job(ID, 'EXECUTING', 0), [warning]],
        [1500, job(ID, 'COMPLETED', 1500)],
      ]),
    );
    expect(out[0]?.warnings).toEqual([warning]);
    expect(out[1]).not.toHaveProperty('warnings');
  });

  it('carries normalised messages and the reason of a failed job', () => {
    const failed = job(ID, 'FAILED', 1000, {
      messages: ['Stopping.', { type: 'esriJobMessageTypeError', description: 'Port in use.' }],
    });
    const out = run(
      reads([
        [0, job(ID, 'EXECUTING', 0)],
        [1000, failed],
      ]),
    );
    expect(out.at(-1)).toMatchObject({
      outcome: 'failed',
      messages: [{ text: 'Stopping.' }, { text: 'Port in use.', severity: 'error' }],
      reason: 'Port in use.',
    });
  });

  it('a job whose times are missing or null is still paced and watched to its end', () => {
    const bare = (status: string): Job => ({ jobid: ID, status, starttime: null });
    const out = run(
      reads([
        [0, bare('SUBMITTED')],
        [2500, bare('COMPLETED')],
      ]),
    );
    expect(out.map((s) => s.status)).toEqual(['SUBMITTED', 'COMPLETED']);
  });

  it('waitForJob rejects with the reason in its message', async () => {
    const scheduler = newScheduler();
    const server = new FakeServer(scheduler);
    server.scripts.set(ID, () =>
      job(ID, 'FAILED', 0, { result: { error: { message: 'Disk full.' } } as Job['result'] }),
    );
    const watcher = createWatcher(server.client, { scheduler, pacing: { jitter: 0 } });
    const promise = waitForJob(watcher, ID, { rejectOnFailure: true });
    scheduler.flush();
    const error = (await promise.catch((e: unknown) => e)) as JobFailedError;
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.message).toBe(`Job ${ID} ended FAILED: Disk full.`);
    expect(error.snapshot.reason).toBe('Disk full.');
  });
});
