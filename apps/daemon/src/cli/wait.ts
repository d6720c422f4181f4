/**
 * `jobwatch wait <jobid...>`: waits for jobs and exits with the worst outcome.
 */
import { waitForJob } from '@jobwatch/rx';
import type { SchemaWarning, Snapshot } from '@jobwatch/schema';
import type { ConnectionFlags } from '../config.js';
import { parseDuration } from '../duration.js';
import { connect, parseJobIds } from './connect.js';
import {
  ExitCode,
  type ExitCodeValue,
  exitCodeForError,
  exitCodeForStatus,
  worstExitCode,
} from './exit-codes.js';
import { type CliIo, errorInfo } from './io.js';
import { loadModelInto, RecordingModel } from './models.js';
import { jsonRenderer, liveRenderer, plainRenderer, type Renderer } from './render.js';

/** How long `wait` goes on while the server answers nothing at all, by default. */
export const DEFAULT_MAX_UNREACHABLE = '10m';

/** Flags of `jobwatch wait`. */
export interface WaitFlags extends ConnectionFlags {
  /** A duration (`90s`, `30m`); past it, jobs still running give exit code 4. */
  readonly timeout?: string | undefined;
  /**
   * A duration: when the server has answered nothing at all for that long (refused
   * connections, an unknown host, timeouts; a 502 is an answer), exit 5. @default "10m"
   */
  readonly maxUnreachable?: string | undefined;
  readonly json?: boolean | undefined;
  /** A daemon to read the duration model from (`JOBWATCH_DAEMON_URL`); key in `JOBWATCH_DAEMON_KEY`. */
  readonly daemon?: string | undefined;
  /** Also print, once per job and place, what was not in its documented shape. */
  readonly verbose?: boolean | undefined;
}

/** The line that says why a job that did not succeed ended. */
export function reasonLine(snapshot: Snapshot): string {
  const said = snapshot.reason ?? 'the server gave no reason';
  return `jobwatch: ${snapshot.jobid} ${snapshot.status}: ${said}\n`;
}

/** The line that tells of a value not in its documented shape. */
export function warningLine(jobid: string, w: SchemaWarning): string {
  return `jobwatch: ${jobid}: warning: ${w.pointer}: expected ${w.expected}, got ${w.found}\n`;
}

/**
 * Runs `wait`: every job is waited for with `@jobwatch/rx`'s `waitForJob` until it ends, fails
 * to be watched, or `--timeout` runs out. Resolves the exit code (see {@link ExitCode}).
 */
export async function runWait(
  ids: readonly string[],
  flags: WaitFlags,
  io: CliIo,
): Promise<ExitCodeValue> {
  const jobids = parseJobIds(ids);
  const maxWait =
    flags.timeout === undefined ? undefined : parseDuration(flags.timeout, '--timeout');
  const unreachableText = flags.maxUnreachable ?? DEFAULT_MAX_UNREACHABLE;
  const maxUnreachable = parseDuration(unreachableText, '--max-unreachable');
  const model = new RecordingModel();
  const { watcher, deployment } = connect(flags, io, { model });
  const source = await loadModelInto({
    model,
    deployment,
    daemonUrl: flags.daemon ?? io.env.JOBWATCH_DAEMON_URL,
    io,
  }).catch((error: unknown) => {
    watcher.close();
    throw error;
  });
  const unique = [...new Set(jobids)];
  const renderer: Renderer = flags.json
    ? jsonRenderer(io.stdout)
    : io.stdout.isTTY
      ? liveRenderer(io.stdout, unique)
      : plainRenderer(io.stdout);
  const codes = new Map<string, ExitCodeValue>();
  // On a terminal, messages wait until the live lines are final, so they do not break the redraw.
  const live = io.stdout.isTTY === true && !flags.json;
  const messages: string[] = [];
  const report = (line: string) => (live ? messages.push(line) : io.stderr.write(line));
  /** (job, pointer) pairs already told of, with --verbose. */
  const told = new Set<string>();
  /** Shows a snapshot of a job being waited for. */
  const show = (jobid: string, snapshot: Snapshot) => {
    renderer.update({ jobid, snapshot });
    if (flags.verbose) {
      for (const w of snapshot.warnings ?? []) {
        const key = `${jobid}\u0000${w.pointer}`;
        if (told.has(key)) continue;
        told.add(key);
        report(warningLine(jobid, w));
      }
    }
    if (snapshot.terminal && (snapshot.outcome === 'failed' || snapshot.outcome === 'cancelled')) {
      report(reasonLine(snapshot));
    }
  };
  /** Tells why a job could not be waited for, and gives its exit code. */
  const failed = (jobid: string, error: unknown): ExitCodeValue => {
    const info = errorInfo(error);
    if (info.code === 'UNREACHABLE') {
      const last = (error as { last?: { message?: string } }).last?.message;
      info.message = `no answer at all from the server for ${unreachableText} (--max-unreachable)${last ? `; last: ${last}` : ''}`;
    }
    renderer.update({ jobid, error: info });
    report(`jobwatch: ${jobid}: ${info.message} (${info.code})\n`);
    return exitCodeForError(error);
  };
  const ticker = live ? setInterval(() => renderer.tick(), 1000) : undefined;
  try {
    // Each job through rx's waitForJob, all on the one watcher; an interrupt stops them all.
    await Promise.all(
      unique.map((jobid) =>
        waitForJob(watcher, jobid, {
          ...(maxWait === undefined ? {} : { maxWait }),
          maxUnreachable,
          ...(io.interrupt ? { signal: io.interrupt } : {}),
          onSnapshot: (snapshot) => show(jobid, snapshot),
        }).then(
          (final) => {
            // A wait that ends without the job's end (an unknown status) did not see it end.
            codes.set(
              jobid,
              final.terminal && final.status !== null
                ? exitCodeForStatus(final.status)
                : ExitCode.UNWATCHABLE,
            );
          },
          (error: unknown) => {
            if (io.interrupt?.aborted) return;
            codes.set(jobid, failed(jobid, error));
          },
        ),
      ),
    );
  } finally {
    clearInterval(ticker);
    watcher.close();
    source.save();
  }
  renderer.done();
  for (const line of messages) io.stderr.write(line);
  if (codes.size < unique.length) {
    io.stderr.write('jobwatch: interrupted\n');
    return ExitCode.INTERRUPTED;
  }
  return worstExitCode(codes.values());
}
