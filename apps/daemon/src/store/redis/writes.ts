/**
 * The two transitions of a watched job — a new snapshot, a failed watch — written by
 * compare-and-set: the stored job is read, reconciled in JavaScript, and one script (see
 * `scripts.ts`) writes only if the job's version is still the one read, checking the fence,
 * taking the next event id, appending the event and queuing its deliveries at once; retried on
 * a conflict.
 */
import type { Snapshot } from '@jobwatch/schema';
import { FencedError } from '../../errors.js';
import {
  type Fence,
  type JobRef,
  type NewDelivery,
  reconcileSnapshot,
  type StoredEvent,
  type WatchFailedEvent,
  type WatchFailure,
} from '../store.js';
import type { SeenSnapshots } from './availability.js';
import type { RoundTrips, ScriptedRedis } from './connection.js';
import type { EventReader } from './events.js';
import { orderMember, type RedisKeys } from './keys.js';

/** Compare-and-set attempts before a write gives up (only many daemons writing one job get close). */
const MAX_CAS_ATTEMPTS = 50;

/** What {@link createTransitionWrites} writes with. */
export interface TransitionWritesOptions {
  readonly redis: ScriptedRedis;
  readonly keys: RedisKeys;
  readonly rt: RoundTrips;
  readonly seen: SeenSnapshots;
  /** Told at once of each event written here. */
  readonly reader: EventReader;
  readonly now: () => number;
}

/** The deliveries a snapshot queues, given what was stored before it. */
export type SnapshotDeliveries = (
  previous: Snapshot | null,
  stored: Snapshot,
) => readonly NewDelivery[];

/** The deliveries a failed watch queues, for the event id it will get. */
export type FailureDeliveries = (failure: WatchFailure, eventId: number) => readonly NewDelivery[];

/** Writes of {@link createTransitionWrites}, as they go to Redis (no buffering here). */
export interface TransitionWrites {
  record(
    next: Snapshot,
    deliveries: SnapshotDeliveries,
    fence: Fence | undefined,
  ): Promise<StoredEvent | undefined>;
  fail(
    ref: JobRef,
    error: { code: string; message: string },
    deliveries: FailureDeliveries,
    fence: Fence | undefined,
  ): Promise<WatchFailedEvent | undefined>;
}

const flat = (list: readonly NewDelivery[]) =>
  list.flatMap((d) => [d.messageId, d.endpoint, d.body]);

const fenced = (fence: Fence | undefined) => new FencedError(fence?.work ?? '', fence?.token ?? 0);

const conflict = (operation: string) =>
  new Error(`${operation}: the job kept changing under ${MAX_CAS_ATTEMPTS} attempts`);

/** The snapshot and failure writes of the Redis store. */
export function createTransitionWrites(options: TransitionWritesOptions): TransitionWrites {
  const { redis, keys, rt, seen, reader, now } = options;
  const P = keys.prefix;
  const fenceArgs = (fence: Fence | undefined) =>
    fence ? [keys.lease(fence.work), String(fence.token)] : ['', ''];

  async function record(
    next: Snapshot,
    deliveries: SnapshotDeliveries,
    fence: Fence | undefined,
  ): Promise<StoredEvent | undefined> {
    const jk = keys.job(next.deployment, next.jobid);
    // Most polls change nothing: one that shows nothing new beside what this daemon last saw
    // stored costs no round trip. (Should another daemon have stored something newer since,
    // this poll has nothing to add to it either.)
    const known = seen.get(jk);
    if (known && !known.terminal && !next.terminal && !reconcileSnapshot(known, next))
      return undefined;
    // After a write of its own (nothing newer seen since), the job is as this daemon left it:
    // the first attempt goes straight to the compare-and-set, which refuses it should the job
    // have changed after all, and the job is read as usual.
    let mine = known && seen.written(jk);
    for (let attempt = 1; ; attempt++) {
      let previous: Snapshot | null;
      let version: string | null;
      let state: string | null;
      if (known && mine) {
        [previous, version, state] = [known, String(mine.version), 'watching'];
        mine = undefined;
      } else {
        const [json, v, s] = await rt.run('record', 'hmget', () =>
          redis.hmget(jk, 'snapshot', 'v', 'state'),
        );
        previous = json ? (JSON.parse(json) as Snapshot) : null;
        [version, state] = [v ?? null, s ?? null];
        seen.remember(jk, previous);
      }
      const snapshot = reconcileSnapshot(previous, next);
      // Nothing new; but a watch whose job has ended is finished, in this same step.
      if (!snapshot && !((previous?.terminal || next.terminal) && state === 'watching'))
        return undefined;
      const list = snapshot ? deliveries(previous, snapshot) : [];
      const at = now();
      const reply = (await rt.run('record', 'record', () =>
        redis.jobwatchRecord(
          jk,
          P,
          next.deployment,
          next.jobid,
          version ?? '0',
          snapshot ? 'event' : 'finish',
          at,
          snapshot ? JSON.stringify(snapshot) : '',
          snapshot?.terminal ? '1' : '0',
          orderMember(at, next.deployment, next.jobid),
          ...fenceArgs(fence),
          list.length,
          ...flat(list),
        ),
      )) as [string, number?];
      if (reply[0] === 'FENCED') throw rt.failed('record', fenced(fence));
      if (reply[0] === 'CONFLICT') {
        if (attempt >= MAX_CAS_ATTEMPTS) throw conflict('record');
        continue;
      }
      if (!snapshot || !reply[1]) {
        seen.forget(jk);
        return undefined;
      }
      // The script adds one to the version (a job it creates starts at 1).
      const written = { version: Number(version ?? '0') + 1, eventId: Number(reply[1]) };
      seen.remember(jk, snapshot, written);
      const event: StoredEvent = { id: written.eventId, snapshot };
      reader.offer(event);
      return event;
    }
  }

  async function fail(
    ref: JobRef,
    error: { code: string; message: string },
    deliveries: FailureDeliveries,
    fence: Fence | undefined,
  ): Promise<WatchFailedEvent | undefined> {
    const jk = keys.job(ref.deployment, ref.jobid);
    for (let attempt = 1; ; attempt++) {
      const [[json, version, state], counter] = await rt.run('failWatch', 'read', () =>
        Promise.all([redis.hmget(jk, 'snapshot', 'v', 'state'), redis.get(keys.eventId)]),
      );
      seen.forget(jk);
      if (state !== 'watching') return undefined;
      const at = now();
      const failure: WatchFailure = {
        deployment: ref.deployment,
        jobid: ref.jobid,
        error: { code: error.code, message: error.message },
        snapshot: json ? (JSON.parse(json) as Snapshot) : null,
        failedAt: at,
      };
      const expected = Number(counter ?? 0);
      // The deliveries' message id names the event, so they are computed for the id it will get.
      const list = deliveries(failure, expected + 1);
      const reply = (await rt.run('failWatch', 'fail', () =>
        redis.jobwatchFail(
          jk,
          P,
          ref.deployment,
          ref.jobid,
          version ?? '0',
          expected,
          at,
          JSON.stringify(failure),
          error.code,
          error.message,
          ...fenceArgs(fence),
          list.length,
          ...flat(list),
        ),
      )) as [string, number?];
      if (reply[0] === 'NONE') return undefined;
      if (reply[0] === 'FENCED') throw rt.failed('failWatch', fenced(fence));
      if (reply[0] === 'CONFLICT') {
        if (attempt >= MAX_CAS_ATTEMPTS) throw conflict('failWatch');
        // Other daemons append events meanwhile: step aside a moment before reading again.
        if (attempt > 3) await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
        continue;
      }
      const event: WatchFailedEvent = { id: Number(reply[1]), type: 'watch_failed', failure };
      reader.offer(event);
      return event;
    }
  }

  return { record, fail };
}
