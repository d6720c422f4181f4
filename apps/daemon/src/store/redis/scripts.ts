/**
 * The Redis store's atomic steps, as Lua scripts. Each runs as one indivisible step on the
 * server, so a fence check, an id, an event, a job's new state and its webhook deliveries land
 * together or not at all, whichever daemon runs it. ioredis's `defineCommand` sends them with
 * `EVALSHA` and falls back to `EVAL` after a restart emptied the server's script cache.
 *
 * Every script gets the key prefix as `ARGV[1]` and builds the names of `keys.ts` from it;
 * they all share the prefix's hash tag, so in a Redis Cluster they live in one slot.
 * Snapshots and bodies pass through as opaque strings: no script decodes JSON, so no number
 * in them is ever rounded.
 */

/** Shared helpers, prepended to every script. */
const COMMON = `
local P = ARGV[1]
local function fenced(leaseKey, token)
  if leaseKey == '' then return false end
  return redis.call('HGET', leaseKey, 'token') ~= token
end
local function setState(member, from, to)
  if from then redis.call('ZREM', P .. 'jobs:' .. from, member) end
  redis.call('ZADD', P .. 'jobs:' .. to, 0, member)
end
local function queueDeliveries(first, at)
  local n = tonumber(ARGV[first - 1])
  for i = 0, n - 1 do
    local m, e, b = ARGV[first + 3 * i], ARGV[first + 3 * i + 1], ARGV[first + 3 * i + 2]
    if redis.call('HEXISTS', P .. 'endpoints:disabled', e) == 0 then
      local k = m .. '\\n' .. e
      if redis.call('HEXISTS', P .. 'outbox:keys', k) == 0 then
        local seq = redis.call('INCR', P .. 'outbox:seq')
        redis.call('XADD', P .. 'outbox', seq .. '-0', 'm', m, 'e', e, 'b', b, 'a', '0', 'c', at, 'd', at)
        redis.call('HSET', P .. 'outbox:keys', k, seq)
      end
    end
  end
end
`;

/** A script and how many of its arguments are keys. */
export interface ScriptDefinition {
  readonly numberOfKeys: number;
  readonly lua: string;
}

/**
 * Records a snapshot (mode `event`) or only finishes a watch whose job has ended (mode
 * `finish`), if the job's version is still the one read (compare-and-set) and the fence holds.
 *
 * KEYS: job. ARGV: prefix, deployment, jobid, expected version (`0` for a job not stored),
 * mode, at, snapshot JSON, terminal (`1`/`0`), order member (for a new job), lease key (`''`
 * for none), token, then the number of deliveries and (message id, endpoint, body) each.
 * Answers `{'OK', id}` (`id` 0 when no event), `{'CONFLICT'}` or `{'FENCED'}`.
 */
const record: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${COMMON}
if fenced(ARGV[10], ARGV[11]) then return {'FENCED'} end
local jk = KEYS[1]
if (redis.call('HGET', jk, 'v') or '0') ~= ARGV[4] then return {'CONFLICT'} end
local at = ARGV[6]
local state = redis.call('HGET', jk, 'state')
local member = redis.call('HGET', jk, 'm')
if ARGV[5] == 'finish' then
  if state == 'watching' then
    local ended = redis.call('HGET', jk, 'endedAt')
    if not ended then
      ended = at
      redis.call('HSET', jk, 'endedAt', ended)
    end
    redis.call('HSET', jk, 'state', 'finished')
    redis.call('HINCRBY', jk, 'v', 1)
    setState(member, 'watching', 'finished')
    redis.call('ZADD', P .. 'jobs:ended', ended, member)
  end
  return {'OK', 0}
end
local id = redis.call('INCR', P .. 'eventid')
redis.call('XADD', P .. 'events', id .. '-0', 't', 's', 'd', ARGV[2], 'j', ARGV[3], 'at', at, 'data', ARGV[7])
if not state then
  member = ARGV[9]
  local fresh = 'watching'
  if ARGV[8] == '1' then fresh = 'finished' end
  redis.call('HSET', jk, 'd', ARGV[2], 'j', ARGV[3], 'm', member, 'state', fresh, 'addedAt', at,
    'snapshot', ARGV[7], 'eventId', id, 'v', 1)
  redis.call('ZADD', P .. 'jobs', 0, member)
  setState(member, false, fresh)
  if fresh == 'finished' then
    redis.call('HSET', jk, 'endedAt', at)
    redis.call('ZADD', P .. 'jobs:ended', at, member)
  end
else
  redis.call('HSET', jk, 'snapshot', ARGV[7], 'eventId', id)
  redis.call('HINCRBY', jk, 'v', 1)
  if ARGV[8] == '1' and state == 'watching' then
    redis.call('HSET', jk, 'state', 'finished', 'endedAt', at)
    setState(member, 'watching', 'finished')
    redis.call('ZADD', P .. 'jobs:ended', at, member)
  end
end
queueDeliveries(13, at)
return {'OK', id}
`,
};

/**
 * Ends a watch as failed, with its `watch_failed` event and deliveries, if the job is still
 * watched at the version read, the event counter is still the one the deliveries were
 * computed for (their message id names the event), and the fence holds.
 *
 * KEYS: job. ARGV: prefix, deployment, jobid, expected version, expected event counter, at,
 * failure JSON, error code, error message, lease key, token, then deliveries as in `record`.
 * Answers `{'OK', id}`, `{'NONE'}` (not watched), `{'CONFLICT'}` or `{'FENCED'}`.
 */
const fail: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${COMMON}
if fenced(ARGV[10], ARGV[11]) then return {'FENCED'} end
local jk = KEYS[1]
if redis.call('HGET', jk, 'state') ~= 'watching' then return {'NONE'} end
if (redis.call('HGET', jk, 'v') or '0') ~= ARGV[4] then return {'CONFLICT'} end
if (redis.call('GET', P .. 'eventid') or '0') ~= ARGV[5] then return {'CONFLICT'} end
local at = ARGV[6]
local member = redis.call('HGET', jk, 'm')
local id = redis.call('INCR', P .. 'eventid')
redis.call('XADD', P .. 'events', id .. '-0', 't', 'f', 'd', ARGV[2], 'j', ARGV[3], 'at', at, 'data', ARGV[7])
redis.call('HSET', jk, 'state', 'failed', 'errorCode', ARGV[8], 'errorMessage', ARGV[9],
  'endedAt', at, 'failureEventId', id)
redis.call('HINCRBY', jk, 'v', 1)
setState(member, 'watching', 'failed')
redis.call('ZADD', P .. 'jobs:ended', at, member)
queueDeliveries(13, at)
return {'OK', id}
`,
};

/**
 * Starts (or restarts) watching a job. KEYS: job. ARGV: prefix, deployment, jobid, at, order
 * member, the job's URL (`''` for a job of its deployment's kind; kept from the first watch).
 * Answers 1 when it was not being watched.
 */
const watch: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${COMMON}
local jk = KEYS[1]
local state = redis.call('HGET', jk, 'state')
if not state then
  redis.call('HSET', jk, 'd', ARGV[2], 'j', ARGV[3], 'm', ARGV[5], 'state', 'watching',
    'addedAt', ARGV[4], 'eventId', 0, 'v', 1)
  if ARGV[6] and ARGV[6] ~= '' then redis.call('HSET', jk, 'url', ARGV[6]) end
  redis.call('ZADD', P .. 'jobs', 0, ARGV[5])
  setState(ARGV[5], false, 'watching')
  return 1
end
if state == 'watching' then return 0 end
local member = redis.call('HGET', jk, 'm')
redis.call('HSET', jk, 'state', 'watching')
redis.call('HDEL', jk, 'errorCode', 'errorMessage', 'endedAt', 'failureEventId')
redis.call('HINCRBY', jk, 'v', 1)
setState(member, state, 'watching')
redis.call('ZREM', P .. 'jobs:ended', member)
return 1
`,
};

/**
 * Ends a watch (`stopped`, `finished` or `failed`) with an optional error. KEYS: job. ARGV:
 * prefix, state, error code (`''` for none), error message, at. Answers 0 for an unknown job.
 */
const setStateScript: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${COMMON}
local jk = KEYS[1]
local old = redis.call('HGET', jk, 'state')
if not old then return 0 end
local member = redis.call('HGET', jk, 'm')
redis.call('HSET', jk, 'state', ARGV[2])
if ARGV[3] ~= '' then
  redis.call('HSET', jk, 'errorCode', ARGV[3], 'errorMessage', ARGV[4])
else
  redis.call('HDEL', jk, 'errorCode', 'errorMessage')
end
local ended = redis.call('HGET', jk, 'endedAt')
if not ended then
  ended = ARGV[5]
  redis.call('HSET', jk, 'endedAt', ended)
end
redis.call('HINCRBY', jk, 'v', 1)
if old ~= ARGV[2] then setState(member, old, ARGV[2]) end
redis.call('ZADD', P .. 'jobs:ended', ended, member)
return 1
`,
};

/**
 * Forgets up to `batch` jobs whose watch ended before `cutoff`. KEYS: the ended set. ARGV:
 * prefix, cutoff, batch. Answers `{forgotten, looked at}`.
 */
const pruneJobs: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${COMMON}
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local n = 0
for _, member in ipairs(members) do
  redis.call('ZREM', KEYS[1], member)
  local dep, jobid = string.match(member, '^%d+ (%S+) (.*)$')
  if dep then
    local jk = P .. 'job:' .. dep .. '/' .. jobid
    local state = redis.call('HGET', jk, 'state')
    if state and state ~= 'watching' then
      redis.call('DEL', jk)
      redis.call('ZREM', P .. 'jobs', member)
      redis.call('ZREM', P .. 'jobs:' .. state, member)
      n = n + 1
    end
  end
end
return {n, #members}
`,
};

/**
 * Moves retries that are due back into the outbox stream as new entries, for the consumer
 * group to hand out. KEYS: the due set. ARGV: prefix, now, most. Answers how many.
 */
const promote: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${COMMON}
local seqs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, old in ipairs(seqs) do
  local rk = P .. 'outbox:retry:' .. old
  local f = redis.call('HMGET', rk, 'm', 'e', 'b', 'a', 'c', 'd')
  if f[1] then
    local seq = redis.call('INCR', P .. 'outbox:seq')
    redis.call('XADD', P .. 'outbox', seq .. '-0', 'm', f[1], 'e', f[2], 'b', f[3], 'a', f[4], 'c', f[5], 'd', f[6])
    redis.call('HSET', P .. 'outbox:keys', f[1] .. '\\n' .. f[2], seq)
  end
  redis.call('DEL', rk)
  redis.call('ZREM', KEYS[1], old)
end
return #seqs
`,
};

/** Lua that sets `owned` to whether entry `id` is pending on consumer `ARGV[3]`. */
const OWNED = `
local id = ARGV[4] .. '-0'
local pending = redis.call('XPENDING', KEYS[1], ARGV[2], id, id, 1)
local owned = #pending > 0 and pending[1][2] == ARGV[3]
local function fieldsOf(entry)
  local f = {}
  for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
  return f
end
`;

/**
 * Removes a delivery (sent, or given up): a retry waiting, or an entry this consumer holds.
 * KEYS: outbox. ARGV: prefix, group, consumer, seq. Answers 1 when removed, 0 when it was not
 * this consumer's (another daemon claimed it meanwhile) or is gone.
 */
const remove: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${COMMON}
local rk = P .. 'outbox:retry:' .. ARGV[4]
local r = redis.call('HMGET', rk, 'm', 'e')
if r[1] then
  redis.call('DEL', rk)
  redis.call('ZREM', P .. 'outbox:due', ARGV[4])
  redis.call('HDEL', P .. 'outbox:keys', r[1] .. '\\n' .. r[2])
  return 1
end
${OWNED}
if not owned then return 0 end
local entry = redis.call('XRANGE', KEYS[1], id, id)
if #entry > 0 then
  local f = fieldsOf(entry[1])
  redis.call('HDEL', P .. 'outbox:keys', f.m .. '\\n' .. f.e)
end
redis.call('XACK', KEYS[1], ARGV[2], id)
redis.call('XDEL', KEYS[1], id)
return 1
`,
};

/**
 * Schedules another attempt: the entry leaves the stream (acknowledged) for a retry hash and
 * the due set, under the same seq. KEYS: outbox. ARGV: prefix, group, consumer, seq, due at,
 * attempts. Answers 1, or 0 when the entry is not this consumer's.
 */
const retry: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${COMMON}
local rk = P .. 'outbox:retry:' .. ARGV[4]
if redis.call('EXISTS', rk) == 1 then
  redis.call('HSET', rk, 'a', ARGV[6], 'd', ARGV[5])
  redis.call('ZADD', P .. 'outbox:due', ARGV[5], ARGV[4])
  return 1
end
${OWNED}
if not owned then return 0 end
local entry = redis.call('XRANGE', KEYS[1], id, id)
redis.call('XACK', KEYS[1], ARGV[2], id)
redis.call('XDEL', KEYS[1], id)
if #entry == 0 then return 0 end
local f = fieldsOf(entry[1])
redis.call('HSET', rk, 'm', f.m, 'e', f.e, 'b', f.b, 'c', f.c, 'a', ARGV[6], 'd', ARGV[5])
redis.call('ZADD', P .. 'outbox:due', ARGV[5], ARGV[4])
return 1
`,
};

/**
 * Disables an endpoint for good and drops its queued deliveries, wherever they wait. KEYS:
 * outbox. ARGV: prefix, group, endpoint, at.
 */
const disable: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${COMMON}
redis.call('HSETNX', P .. 'endpoints:disabled', ARGV[3], ARGV[4])
local suffix = '\\n' .. ARGV[3]
local all = redis.call('HGETALL', P .. 'outbox:keys')
for i = 1, #all, 2 do
  local k, seq = all[i], all[i + 1]
  if #k > #suffix and string.sub(k, -#suffix) == suffix then
    local rk = P .. 'outbox:retry:' .. seq
    if redis.call('DEL', rk) == 1 then
      redis.call('ZREM', P .. 'outbox:due', seq)
    else
      redis.call('XACK', KEYS[1], ARGV[2], seq .. '-0')
      redis.call('XDEL', KEYS[1], seq .. '-0')
    end
    redis.call('HDEL', P .. 'outbox:keys', k)
  end
end
return 1
`,
};

/**
 * Keeps the `keep` duration-model kinds updated last and answers them, oldest update first,
 * as key, JSON, key, JSON… KEYS: the update-time set. ARGV: prefix, keep.
 */
const loadModels: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${COMMON}
local drop = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[2])
if drop > 0 then
  local gone = redis.call('ZRANGE', KEYS[1], 0, drop - 1)
  for _, k in ipairs(gone) do redis.call('HDEL', P .. 'models', k) end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, drop - 1)
end
local out = {}
for _, k in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local json = redis.call('HGET', P .. 'models', k)
  if json then
    out[#out + 1] = k
    out[#out + 1] = json
  end
end
return out
`,
};

/** Every script, by the command name it is defined under. */
export const SCRIPTS = {
  jobwatchRecord: record,
  jobwatchFail: fail,
  jobwatchWatch: watch,
  jobwatchSetState: setStateScript,
  jobwatchPruneJobs: pruneJobs,
  jobwatchPromote: promote,
  jobwatchRemove: remove,
  jobwatchRetry: retry,
  jobwatchDisable: disable,
  jobwatchLoadModels: loadModels,
} as const;

/** A script's command name. */
export type ScriptName = keyof typeof SCRIPTS;

/** The scripts as methods of a client they were defined on. */
export type ScriptCommands = {
  readonly [K in ScriptName]: (...args: Array<string | number>) => Promise<unknown>;
};
