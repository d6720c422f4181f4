/**
 * `jobwatch wait <jobid or job URL...>`: waits for jobs of any source and exits with the worst
 * outcome.
 */
import { waitForJob } from '@jobwatch/rx';
import type { SchemaWarning, Snapshot } from '@jobwatch/schema';
import type { ConnectionFlags } from '../config.js';
import { parseDuration } from '../duration.js';
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
import { connectTargets, parseTargets, type Target } from './targets.js';

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

/** The lines that name a succeeded geoprocessing job's results: `<job> <name> <url>`, one a line. */
export function resultLines(label: string, snapshot: Snapshot): string {
  return (snapshot.results ?? []).map((r) => `${label}  ${r.name}  ${r.url}\n`).join('');
}

/**
 * Runs `wait`: every job — a bare admin job id at `--url`, or a job URL of any source (see
 * {@link parseTargets}) — is waited for with `@jobwatch/rx`'s `waitForJob` until it ends,
 * fails to be watched, or `--timeout` runs out; a succeeded geoprocessing job's result URLs
 * are printed once every job has ended (not with `--json`, whose snapshots carry them).
 * Resolves the exit code (see {@link ExitCode}).
 */
export async function runWait(
  args: readonly string[],
  flags: WaitFlags,
  io: CliIo,
): Promise<ExitCodeValue> {
  const unique: Target[] = parseTargets(args);
  const maxWait =
    flags.timeout === undefined ? undefined : parseDuration(flags.timeout, '--timeout');
  const unreachableText = flags.maxUnreachable ?? DEFAULT_MAX_UNREACHABLE;
  const maxUnreachable = parseDuration(unreachableText, '--max-unreachable');
  const model = new RecordingModel();
  const targets = connectTargets(unique, flags, io, { model });
  const source = await loadModelInto({
    model,
    deployment: targets.deployment,
    daemonUrl: flags.daemon ?? io.env.JOBWATCH_DAEMON_URL,
    io,
  }).catch((error: unknown) => {
    targets.close();
    throw error;
  });
  const renderer: Renderer = flags.json
    ? jsonRenderer(io.stdout)
    : io.stdout.isTTY
      ? liveRenderer(
          io.stdout,
          unique.map((t) => t.label),
        )
      : plainRenderer(io.stdout);
  const finals = new Map<string, Snapshot>();
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
    // Each job through rx's waitForJob, on the watcher that may read it; an interrupt stops them all.
    await Promise.all(
      unique.map((target) =>
        waitForJob(targets.watcherFor(target), target.kind === 'id' ? target.jobid : target.ref, {
          ...(maxWait === undefined ? {} : { maxWait }),
          maxUnreachable,
          ...(io.interrupt ? { signal: io.interrupt } : {}),
          onSnapshot: (snapshot) => show(target.label, snapshot),
        }).then(
          (final) => {
            finals.set(target.label, final);
            // A wait that ends without the job's end (an unknown status) did not see it end.
            codes.set(
              target.label,
              final.terminal && final.status !== null
                ? exitCodeForStatus(final.status)
                : ExitCode.UNWATCHABLE,
            );
          },
          (error: unknown) => {
            if (io.interrupt?.aborted) return;
            codes.set(target.label, failed(target.label, error));
          },
        ),
      ),
    );
  } finally {
    clearInterval(ticker);
    targets.close();
    source.save();
  }
  renderer.done();
  if (!flags.json) {
    for (const [label, final] of finals) {
      const lines = resultLines(label, final);
      if (lines) io.stdout.write(lines);
    }
  }
  for (const line of messages) io.stderr.write(line);
  if (codes.size < unique.length) {
    io.stderr.write('jobwatch: interrupted\n');
    return ExitCode.INTERRUPTED;
  }
  return worstExitCode(codes.values());
}
