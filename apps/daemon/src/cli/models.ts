/**
 * Where `jobwatch wait` gets its duration model: from a daemon (`--daemon <url>`, key in
 * `JOBWATCH_DAEMON_KEY`), or from a small cache file it keeps itself in the XDG cache
 * directory, so that repeated waits in pipelines learn too. A model that cannot be had is a
 * warning, never a failure: the wait goes on, paced by age.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isLoopbackHost } from '@jobwatch/client';
import { DurationModel, type DurationModelJSON, type JobKind } from '@jobwatch/rx';
import type { Env } from '../config.js';
import { configError } from '../errors.js';
import type { CliIo } from './io.js';

/** A model that also keeps what this run learned, to add to the cache file at the end. */
export class RecordingModel extends DurationModel {
  /** The durations this run observed, alone. */
  readonly fresh = new DurationModel();
  override observe(kind: JobKind, durationMs: number): void {
    super.observe(kind, durationMs);
    this.fresh.observe(kind, durationMs);
  }
}

/** The cache directory: `$XDG_CACHE_HOME/jobwatch`, else `~/.cache/jobwatch`; none without either. */
export function cacheDir(env: Env): string | undefined {
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec: a relative path is invalid and to be ignored.
  if (xdg && isAbsolute(xdg)) return join(xdg, 'jobwatch');
  if (env.HOME && isAbsolute(env.HOME)) return join(env.HOME, '.cache', 'jobwatch');
  return undefined;
}

/** The cache file of the duration model. */
export const CACHE_FILE = 'models.json';

/** What {@link loadModelInto} tells the caller. */
export interface ModelSource {
  /** Where the model came from: `daemon`, `cache` or `none`. */
  readonly from: 'daemon' | 'cache' | 'none';
  /** Adds this run's durations to the cache file (read again first, so parallel runs lose nothing). */
  save(): void;
}

/** Checks `--daemon`: an http(s) URL without credentials in it; a key only over https or to loopback. */
export function checkDaemonUrl(text: string, withKey: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw configError(`--daemon: "${text.slice(0, 100)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw configError(`--daemon: expected an http or https URL, got ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw configError(
      '--daemon: put no credentials in the URL; the key goes in JOBWATCH_DAEMON_KEY',
    );
  }
  if (withKey && url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw configError('--daemon: the API key is sent only over https (or to a loopback address)');
  }
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** Reads a model file; `undefined` when there is none. @throws on a file that is not a model. */
function readModelFile(path: string): DurationModel | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw error;
  }
  return DurationModel.fromJSON(JSON.parse(text) as unknown);
}

/**
 * The kinds of a daemon's model that belong to this deployment: those of the same name or,
 * when the daemon has learned about one deployment only, those (named for this one here).
 */
function kindsFor(json: DurationModelJSON, deployment: string): DurationModelJSON {
  const names = new Set(json.kinds.map((k) => k.deployment));
  const pick = names.has(deployment) ? deployment : names.size === 1 ? [...names][0] : undefined;
  return {
    ...json,
    kinds: json.kinds.filter((k) => k.deployment === pick).map((k) => ({ ...k, deployment })),
  };
}

/**
 * Fills `model` from the daemon (when `daemonUrl` is set and answers) or else from the
 * cache file, warning on stderr about whatever could not be read.
 */
export async function loadModelInto(options: {
  readonly model: RecordingModel;
  readonly deployment: string;
  readonly daemonUrl: string | undefined;
  readonly io: CliIo;
  readonly fetch?: typeof globalThis.fetch;
}): Promise<ModelSource> {
  const { model, deployment, io } = options;
  const warn = (line: string) => io.stderr.write(`jobwatch: ${line}\n`);
  const key = io.env.JOBWATCH_DAEMON_KEY;
  const daemon = options.daemonUrl ? checkDaemonUrl(options.daemonUrl, !!key) : undefined;
  const dir = cacheDir(io.env);
  const file = dir ? join(dir, CACHE_FILE) : undefined;
  let from: ModelSource['from'] = 'none';

  if (daemon) {
    const url = new URL('api/models', daemon);
    try {
      const res = await (options.fetch ?? globalThis.fetch)(url, {
        headers: { accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const json = DurationModel.fromJSON(await res.json()).toJSON();
      model.merge(DurationModel.fromJSON(kindsFor(json, deployment)));
      from = 'daemon';
    } catch (error) {
      warn(
        `could not read the duration model from ${url.origin}${url.pathname}: ${(error as Error).message}; ${file ? 'using the local cache' : 'pacing by age'}`,
      );
    }
  }
  if (from === 'none' && file) {
    try {
      const cached = readModelFile(file);
      if (cached) {
        model.merge(cached);
        from = 'cache';
      }
    } catch (error) {
      // Keep the unreadable file for a person to look at, and start a new one.
      const aside = `${file}.unreadable`;
      try {
        renameSync(file, aside);
      } catch {
        // Nothing to move aside.
      }
      warn(
        `the model cache ${file} could not be read (${(error as Error).message}); moved it to ${aside}`,
      );
    }
  }

  return {
    from,
    save() {
      if (!file || !dir || model.fresh.size === 0) return;
      try {
        let current: DurationModel | undefined;
        try {
          current = readModelFile(file);
        } catch {
          current = undefined; // read at the start or written since by another run: replaced
        }
        const next = current ?? new DurationModel();
        next.merge(model.fresh);
        mkdirSync(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, `${JSON.stringify(next)}\n`);
        renameSync(tmp, file);
      } catch (error) {
        warn(`could not write the model cache ${file}: ${(error as Error).message}`);
      }
    },
  };
}
