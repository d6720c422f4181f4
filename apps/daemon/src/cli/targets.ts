/**
 * What `wait` and `submit` are pointed at: bare admin job ids (at `--url`) and job URLs of any
 * source, each checked before any request; and the watchers that read them. A token goes only
 * to the origin of `--url` (or `JOBWATCH_URL`, or the config's deployment) — or, when none is
 * given, to the one origin all job URLs share. A job URL on any other origin is read without a
 * token, through a client of its own.
 */
import { createAdminClient, withoutCredentials } from '@jobwatch/client';
import { createWatcher, type DurationModel, type Watcher, type WatchOptions } from '@jobwatch/rx';
import {
  isJobRefError,
  type JobId,
  type JobRef,
  jobRefAdminUrl,
  jobRefKey,
  jobRefUrl,
  parseJobRef,
  type Snapshot,
} from '@jobwatch/schema';
import type { Observable } from 'rxjs';
import type { ConnectionFlags, Env } from '../config.js';
import { configError, usageError } from '../errors.js';
import { connect, parseJobIds } from './connect.js';
import type { CliIo } from './io.js';

/** One job named on the command line: an admin job id, or a job of any source by URL. */
export type Target =
  | { readonly kind: 'id'; readonly key: string; readonly label: string; readonly jobid: JobId }
  | { readonly kind: 'ref'; readonly key: string; readonly label: string; readonly ref: JobRef };

/** An argument written as a URL (`scheme://…`); anything else is read as a job id. */
const isUrl = (arg: string) => /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(arg.trim());

/** How a refused URL is shown: never with credentials or a query, at most 60 characters. */
function shown(arg: string): string {
  const text = withoutCredentials(arg).replace(/[?#].*$/s, '');
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/**
 * Reads the job arguments: bare ids (checked as safe ids) and job URLs of any source
 * (`parseJobRef`), without any request; duplicates (the same job spelled twice) kept once.
 * Each gets a label for its line: the job id, or, when two jobs share an id, their URL.
 * @throws a usage error naming the first argument that is neither.
 */
export function parseTargets(args: readonly string[]): Target[] {
  const out = new Map<string, Target>();
  for (const arg of args) {
    if (isUrl(arg)) {
      let ref: JobRef;
      try {
        ref = parseJobRef(arg);
      } catch (error) {
        if (!isJobRefError(error)) throw error;
        const why = error.message.replace(/^Not a job URL jobwatch can read \([^)]*\): /, '');
        throw usageError(`job URL ${shown(arg)}: ${why}`);
      }
      const key = jobRefKey(ref);
      if (!out.has(key)) out.set(key, { kind: 'ref', key, label: ref.jobid, ref });
    } else {
      const [jobid] = parseJobIds([arg]) as [JobId];
      if (!out.has(jobid)) out.set(jobid, { kind: 'id', key: jobid, label: jobid, jobid });
    }
  }
  const targets = [...out.values()];
  const labels = new Map<string, number>();
  for (const t of targets) labels.set(t.label, (labels.get(t.label) ?? 0) + 1);
  return targets.map((t) =>
    (labels.get(t.label) ?? 0) > 1 && t.kind === 'ref'
      ? { ...t, label: jobRefUrl(t.ref).split('?', 1)[0] as string }
      : t,
  );
}

/** Whether the user named where their credentials go: a flag, the environment, or a config file. */
function explicitUrl(flags: ConnectionFlags, env: Env): boolean {
  return Boolean(flags.url ?? env.JOBWATCH_URL ?? flags.config);
}

/** Whether any credentials were given, by flag or environment. */
function credentialsGiven(flags: ConnectionFlags, env: Env): boolean {
  return Boolean(flags.token ?? flags.username ?? env.JOBWATCH_TOKEN ?? env.JOBWATCH_USERNAME);
}

/** The watchers that read a command line's targets, and how to read each. */
export interface Targets {
  /** The deployment name of the main connection (for the duration model). */
  readonly deployment: string;
  /** The main watcher: `--url`'s (or the job URLs' one origin), with the credentials. */
  readonly watcher: Watcher;
  /** The watcher whose client may read a target: the main one, or one without a token. */
  watcherFor(target: Target): Watcher;
  /** One target's snapshots, through the watcher whose client may read it. */
  watch(target: Target, options?: WatchOptions): Observable<Snapshot>;
  /** Closes every watcher. */
  close(): void;
}

/**
 * Connects for a command line's targets: the main watcher with the credentials at `--url`
 * (or, without one, at the admin URL of the one origin every job URL shares), and a watcher
 * without a token for each other server a job URL names.
 * @throws a configuration error when bare ids have no `--url`, or when credentials are given
 * with job URLs on several servers and no `--url` says which one they are for.
 */
export function connectTargets(
  targets: readonly Target[],
  flags: ConnectionFlags,
  io: CliIo,
  options: { readonly model?: DurationModel } = {},
): Targets {
  const refs = targets.flatMap((t) => (t.kind === 'ref' ? [t.ref] : []));
  const hasIds = targets.some((t) => t.kind === 'id');
  let url = flags.url;
  if (!explicitUrl(flags, io.env) && !hasIds && refs.length > 0) {
    const origins = new Set(refs.map((r) => new URL(jobRefUrl(r)).origin));
    if (origins.size === 1) url = jobRefAdminUrl(refs[0] as JobRef);
    else if (credentialsGiven(flags, io.env)) {
      throw configError(
        'the job URLs are on several servers: give --url for the one your credentials are for (jobs elsewhere are read without a token)',
      );
    } else url = jobRefAdminUrl(refs[0] as JobRef);
  }
  /** A watcher without a token, for a server no credentials were given for. */
  const anonymous = (root: string): Watcher => {
    let client: ReturnType<typeof createAdminClient>;
    try {
      client = createAdminClient({ url: root, userAgent: 'jobwatch-cli' });
    } catch (error) {
      throw configError((error as Error).message, error);
    }
    return createWatcher(client, {
      deployment: new URL(root).host,
      ...(options.model ? { model: options.model } : {}),
    });
  };
  // Job URLs alone, and no credentials anywhere: public services, read without a token.
  const withoutCredentials =
    !hasIds && refs.length > 0 && !flags.config && !credentialsGiven(flags, io.env);
  const main = withoutCredentials
    ? (() => {
        const root = url ?? io.env.JOBWATCH_URL ?? jobRefAdminUrl(refs[0] as JobRef);
        return { watcher: anonymous(root), deployment: 'default' };
      })()
    : connect({ ...flags, url }, io, options);
  const others = new Map<string, Watcher>();
  const watcherFor = (ref: JobRef): Watcher => {
    if (main.watcher.client.allowsOrigin(jobRefUrl(ref))) return main.watcher;
    const root = jobRefAdminUrl(ref);
    let watcher = others.get(root);
    if (!watcher) {
      watcher = anonymous(root);
      others.set(root, watcher);
    }
    return watcher;
  };
  return {
    deployment: main.deployment,
    watcher: main.watcher,
    watcherFor: (target) => (target.kind === 'id' ? main.watcher : watcherFor(target.ref)),
    watch: (target, opts) =>
      target.kind === 'id'
        ? main.watcher.watch(target.jobid, opts)
        : watcherFor(target.ref).watchRef(target.ref, opts),
    close: () => {
      main.watcher.close();
      for (const w of others.values()) w.close();
    },
  };
}
