/**
 * `jobwatch serve`: runs the daemon until SIGINT/SIGTERM, then shuts down within 10 seconds.
 */
import { resolveServeConfig, type ServeFlags } from '../config.js';
import { startServer } from '../serve.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { type CliIo, interrupted } from './io.js';

/** How long a shutdown may take before the process gives up waiting. */
export const SHUTDOWN_GRACE_MS = 9_000;

/** Runs `serve`. Configuration errors throw before anything listens (exit code 2). */
export async function runServe(flags: ServeFlags, io: CliIo): Promise<ExitCodeValue> {
  const config = resolveServeConfig(flags, io.env);
  const server = await startServer({ config });
  await interrupted(io.interrupt);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), SHUTDOWN_GRACE_MS);
  });
  const result = await Promise.race([server.close().then(() => 'done' as const), late]);
  clearTimeout(timer);
  if (result === 'late') io.stderr.write('jobwatch: shutdown took too long; exiting\n');
  return ExitCode.OK;
}
