import type { AdminClient, ErrorCodeValue, JobwatchError, TransportError } from '@jobwatch/client';
import type { Snapshot } from '@jobwatch/schema';
import type { Observable } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import {
  createWatcher,
  type DaemonEventValue,
  type DaemonReadyData,
  type DaemonStreamState,
  fromDaemon,
  type JobFailedError,
  sharedWatcher,
  type UnknownStatusError,
  type UnknownStatusPolicy,
  type WaitForJobOptions,
  type WaitTimeoutError,
  type Watcher,
  waitForJob,
  watchJob,
} from '../src/index.js';

declare const client: AdminClient;

describe('public types', () => {
  it('makes both sources interchangeable', () => {
    expectTypeOf(watchJob(client, 'j1')).toEqualTypeOf<Observable<Snapshot>>();
    // A job of any source, by URL or reference; without a client, read without a token.
    expectTypeOf(
      watchJob(client, {
        source: 'gp',
        taskUrl: 'https://h/s/rest/services/T/GPServer/T',
        jobid: 'j1',
      }),
    ).toEqualTypeOf<Observable<Snapshot>>();
    expectTypeOf(watchJob('https://h/s/admin/system/jobs/j1')).toEqualTypeOf<
      Observable<Snapshot>
    >();
    expectTypeOf(fromDaemon('http://127.0.0.1:7070', { jobid: 'j1' })).toEqualTypeOf<
      Observable<Snapshot>
    >();
  });

  it('takes a client or a watcher, an id or a started job, and resolves with a snapshot', () => {
    expectTypeOf(waitForJob).parameter(0).toEqualTypeOf<AdminClient | Watcher>();
    expectTypeOf(waitForJob(client, 'j1')).toEqualTypeOf<Promise<Snapshot>>();
    expectTypeOf(createWatcher(client).current('j1')).toEqualTypeOf<Snapshot | undefined>();
    expectTypeOf<WaitForJobOptions['onSnapshot']>().toEqualTypeOf<
      ((snapshot: Snapshot) => void) | undefined
    >();
  });

  it('shares a watcher under an object and a string key', () => {
    expectTypeOf(sharedWatcher({}, 'prod', () => createWatcher(client))).toEqualTypeOf<Watcher>();
    // @ts-expect-error the owner is held weakly: an object or a function, not a string
    sharedWatcher('prod', 'k', () => createWatcher(client));
  });

  it('names the unknown-status policies and typed errors', () => {
    expectTypeOf<UnknownStatusPolicy>().toEqualTypeOf<'watch' | 'error' | 'complete'>();
    expectTypeOf<WaitTimeoutError['code']>().toMatchTypeOf<string>();
    expectTypeOf<JobFailedError['code']>().toEqualTypeOf<'JOB_FAILED'>();
    expectTypeOf<JobFailedError>().toMatchTypeOf<JobwatchError>();
    expectTypeOf<UnknownStatusError>().toMatchTypeOf<JobwatchError>();
    expectTypeOf<WaitTimeoutError>().toMatchTypeOf<JobwatchError>();
    expectTypeOf<JobFailedError['code']>().toMatchTypeOf<ErrorCodeValue>();
    // @ts-expect-error watchAll needs discover: true
    createWatcher(client).watchAll({});
  });

  it("describes the daemon stream's state and its wire contract", () => {
    fromDaemon('http://127.0.0.1:7070', {
      onState: (state) => expectTypeOf(state).toEqualTypeOf<DaemonStreamState>(),
    });
    expectTypeOf<DaemonStreamState['connection']>().toEqualTypeOf<
      'connecting' | 'open' | 'lost' | 'unreachable'
    >();
    expectTypeOf<DaemonStreamState['error']>().toEqualTypeOf<TransportError | undefined>();
    expectTypeOf<DaemonEventValue>().toEqualTypeOf<
      'snapshot' | 'resync' | 'ready' | 'ping' | 'end' | 'watch_failed'
    >();
    expectTypeOf<DaemonReadyData['unwatched']>().toEqualTypeOf<readonly string[]>();
  });
});
