/**
 * The names of everything the Redis store keeps, in one place. Every key starts with one
 * prefix that carries a Redis Cluster hash tag (`{jobwatch}:` by default), so that every key
 * lands in one slot and each Lua script's keys sit on one node, as Cluster requires.
 */

/** The default `prefix` option: keys become `{jobwatch}:…`. */
export const DEFAULT_REDIS_PREFIX = 'jobwatch:';

/**
 * The key prefix for a configured `prefix`: used as it is when it already holds a hash tag
 * (`{…}`), else its part before the trailing `:` becomes the tag (`jobwatch:` →
 * `{jobwatch}:`, `team-a` → `{team-a}:`).
 */
export function redisKeyPrefix(prefix: string = DEFAULT_REDIS_PREFIX): string {
  if (/\{[^}]+\}/.test(prefix)) return prefix;
  const name = prefix.endsWith(':') ? prefix.slice(0, -1) : prefix;
  return `{${name}}:`;
}

/** Every key of one store, under its key prefix. */
export interface RedisKeys {
  /** The key prefix itself (`{jobwatch}:`). */
  readonly prefix: string;
  /** Hash of one job: its state, snapshot, event id, error, order member and version. */
  job(deployment: string, jobid: string): string;
  /** Sorted set (all scores 0, ordered by member) of every job in list order. */
  readonly jobs: string;
  /** Sorted set like {@link jobs} of the jobs in one state. */
  jobsIn(state: string): string;
  /** Sorted set of ended jobs by end time (epoch ms), members as in {@link jobs}. */
  readonly ended: string;
  /** Counter of event ids: the newest id handed out. */
  readonly eventId: string;
  /** Stream of events, entry ids `<event id>-0`. */
  readonly events: string;
  /** Stream of webhook deliveries ready to send, entry ids `<seq>-0`, read by a consumer group. */
  readonly outbox: string;
  /** Counter of delivery sequence numbers. */
  readonly outboxSeq: string;
  /** Hash `<message id>\n<endpoint>` → seq of every queued delivery, for deduplication. */
  readonly outboxKeys: string;
  /** Sorted set of deliveries waiting for a retry, seq by due time. */
  readonly outboxDue: string;
  /** Hash of one delivery waiting for a retry. */
  retry(seq: number | string): string;
  /** Hash of disabled endpoints → epoch ms they were disabled. */
  readonly disabled: string;
  /** Hash of duration-model kinds → JSON. */
  readonly models: string;
  /** Sorted set of duration-model kinds by update time. */
  readonly modelsAt: string;
  /**
   * Hash of the lease on a unit of work: fields `owner` and `token`, expiring with the lease.
   * A fenced write is accepted only while `token` equals the write's.
   */
  lease(work: string): string;
  /** Counter whose `INCR` hands out the next fencing token of a unit of work. */
  fence(work: string): string;
}

/** The keys under a configured `prefix` (see {@link redisKeyPrefix}). */
export function redisKeys(prefix?: string): RedisKeys {
  const p = redisKeyPrefix(prefix);
  return {
    prefix: p,
    job: (deployment, jobid) => `${p}job:${deployment}/${jobid}`,
    jobs: `${p}jobs`,
    jobsIn: (state) => `${p}jobs:${state}`,
    ended: `${p}jobs:ended`,
    eventId: `${p}eventid`,
    events: `${p}events`,
    outbox: `${p}outbox`,
    outboxSeq: `${p}outbox:seq`,
    outboxKeys: `${p}outbox:keys`,
    outboxDue: `${p}outbox:due`,
    retry: (seq) => `${p}outbox:retry:${seq}`,
    disabled: `${p}endpoints:disabled`,
    models: `${p}models`,
    modelsAt: `${p}models:at`,
    lease: (work) => `${p}lease:${work}`,
    fence: (work) => `${p}fence:${work}`,
  };
}

/** Width of the zero-padded `addedAt` that starts a job's order member. */
const ADDED_WIDTH = 16;

/**
 * A job's member in the order sets: `addedAt` zero-padded, the deployment, the job id, split by
 * spaces. Byte order of members is list order (`addedAt`, `deployment`, `jobid`): a space sorts
 * before every character a deployment name may hold.
 */
export function orderMember(addedAt: number, deployment: string, jobid: string): string {
  return `${String(Math.max(0, Math.trunc(addedAt))).padStart(ADDED_WIDTH, '0')} ${deployment} ${jobid}`;
}

/** The job an order member names. */
export function parseOrderMember(
  member: string,
): { addedAt: number; deployment: string; jobid: string } | undefined {
  const match = /^(\d+) (\S+) (.*)$/s.exec(member);
  if (!match) return undefined;
  return { addedAt: Number(match[1]), deployment: match[2] as string, jobid: match[3] as string };
}
