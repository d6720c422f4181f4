/**
 * The daemon as its users run it: the built CLI (`jobwatch serve`) in its own process,
 * configured by a file, read back through its `/metrics`. Shared by the daemon benchmark,
 * the load script and the soak.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI; `BENCH_DAEMON_MAIN` names another build (to compare before and after a change). */
export const DAEMON_MAIN =
  process.env.BENCH_DAEMON_MAIN ||
  fileURLToPath(new URL('../../apps/daemon/dist/main.js', import.meta.url));

/** One sample's value from Prometheus text (the first series of `name`), `NaN` when absent. */
export function metric(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

/** The sum of every series of `name` in Prometheus text (all label sets), `0` when absent. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm')))
    sum += Number(match[1]);
  return sum;
}

/** Options of {@link startDaemon}. */
export interface StartDaemonOptions {
  /** Arguments for `node` before the script, e.g. a heap cap. @default none */
  readonly nodeArgs?: readonly string[];
  /** Added to the environment (secrets the configuration names by variable). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Writes `config` to `dir/config.json` and starts `jobwatch serve` on a free loopback port.
 * Resolves once it logs the address it listens on; its log lines are then drained, as a log
 * shipper would. Rejects when it exits first.
 */
export async function startDaemon(
  config: object,
  dir: string,
  options: StartDaemonOptions = {},
): Promise<{ child: ChildProcess; url: string }> {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      DAEMON_MAIN,
      'serve',
      '--config',
      file,
      '--listen',
      '127.0.0.1:0',
    ],
    {
      env: { ...process.env, JOBWATCH_LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /"url":"(http:[^"]+)"/.exec(buffer);
      if (match?.[1]) resolve(match[1]);
    });
  });
  child.stdout?.resume();
  return { child, url };
}
