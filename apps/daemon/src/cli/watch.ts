/**
 * `jobwatch watch [<jobid...>] [--discover]`: one JSON snapshot per line per change.
 */

import type { Snapshot } from '@jobwatch/schema';
import { merge, type Observable } from 'rxjs';
import type { ConnectionFlags } from '../config.js';
import { parseDuration } from '../duration.js';
import { usageError } from '../errors.js';
import { connect, parseJobIds } from './connect.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { type CliIo, errorInfo } from './io.js';

/** Flags of `jobwatch watch`. */
export interface WatchFlags extends ConnectionFlags {
  /** Also watch every job that appears on the server, until interrupted. */
  readonly discover?: boolean | undefined;
  /** How often the job list is read with `--discover` (a duration). */
  readonly listInterval?: string | undefined;
}

/**
 * Runs `watch`. Without `--discover` it ends when every named job has ended (exit 0, or 5 when
 * one could not be watched); with it, it runs until SIGINT/SIGTERM and exits 0.
 */
export async function runWatch(
  ids: readonly string[],
  flags: WatchFlags,
  io: CliIo,
): Promise<ExitCodeValue> {
  const jobids = [...new Set(parseJobIds(ids))];
  if (jobids.length === 0 && !flags.discover)
    throw usageError('watch: name at least one job id, or use --discover');
  const listInterval = flags.listInterval
    ? parseDuration(flags.listInterval, '--list-interval')
    : undefined;
  const { watcher } = connect(flags, io);
  let code: ExitCodeValue = ExitCode.OK;
  const streams: Observable<Snapshot>[] = jobids.map((jobid) => watcher.watch(jobid));
  if (flags.discover)
    streams.push(watcher.watchAll({ discover: true, ...(listInterval ? { listInterval } : {}) }));
  let remaining = jobids.length;
  try {
    await new Promise<void>((resolve) => {
      io.interrupt?.addEventListener('abort', () => resolve(), { once: true });
      const named = streams.slice(0, jobids.length).map((stream, i) =>
        stream.subscribe({
          next: (snapshot) => io.stdout.write(`${JSON.stringify(snapshot)}\n`),
          error: (error: unknown) => {
            const info = errorInfo(error);
            io.stderr.write(`jobwatch: ${jobids[i]}: ${info.message} (${info.code})\n`);
            code = ExitCode.UNWATCHABLE;
            if (--remaining === 0 && !flags.discover) resolve();
          },
          complete: () => {
            if (--remaining === 0 && !flags.discover) resolve();
          },
        }),
      );
      const rest = flags.discover
        ? merge(...streams.slice(jobids.length)).subscribe({
            next: (snapshot) => {
              if (!jobids.includes(snapshot.jobid as (typeof jobids)[number]))
                io.stdout.write(`${JSON.stringify(snapshot)}\n`);
            },
            error: (error: unknown) => {
              const info = errorInfo(error);
              io.stderr.write(`jobwatch: discovery: ${info.message} (${info.code})\n`);
              code = ExitCode.UNWATCHABLE;
              resolve();
            },
          })
        : undefined;
      io.interrupt?.addEventListener('abort', () => {
        for (const sub of named) sub.unsubscribe();
        rest?.unsubscribe();
      });
    });
  } finally {
    watcher.close();
  }
  return code;
}
