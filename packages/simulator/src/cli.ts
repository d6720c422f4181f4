import { parseArgs } from 'node:util';
import { isSimulatorError, SimulatorError } from './errors.js';
import { parseQuirks, parseTokenHeader, QUIRK_NAMES, type QuirkNameValue } from './quirks.js';
import {
  type RequestLogEntry,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from './server.js';

/** The command line's help text. */
export const SIMULATOR_USAGE = `Usage: jobwatch-sim [options]

A local ArcGIS deployment for tests and demos: the Enterprise Administrator API,
an ArcGIS Server (admin jobs, geoprocessing services) and a portal (item status).
Prints the admin URL as its first line, then the ArcGIS Server admin URL, the
services directory URL and the portal URL, one a line; logs requests on stderr.

Options:
  --port <n>              port to listen on (default 0: a free one)
  --host <address>        address to listen on (default 127.0.0.1)
  --context <name>        web context (default arcgis)
  --server-context <name> the ArcGIS Server's web context (default server)
  --portal-context <name> the portal's web context (default portal)
  --user <name:password>  a user (repeatable; default admin:admin)
  --seed <n>              seed of every random choice
  --speed <factor>        run the clock this many times faster than real time
  --manual-clock          time moves only through POST /__sim/clock/advance
  --retention <duration>  keep finished jobs this long (default 24h)
  --token-ttl <duration>  default token lifetime (default 60m)
  --jobs-per-minute <n>   start a background workload of this many jobs per minute
  --min-duration <dur>    shortest workload job (default 2s)
  --max-duration <dur>    longest workload job (default 2m)
  --failure-rate <0..1>   share of workload jobs that fail (default 0.1)
  --cancel-rate <0..1>    share of workload jobs that are cancelled (default 0.05)
  --no-control            turn the /__sim/ control surface off
  --quirks[=<names>]      bodies that vary as real servers' do: every quirk, or
                          those of a comma-separated list (names below)
  --token-header <mode>   read the token from both headers (default), or only from
                          x-esri-authorization or authorization (499 for the other)
  --quiet                 no request log
  -h, --help              this help

Durations are milliseconds, or a number with ms, s, m or h.
Quirks: ${wrap(QUIRK_NAMES.join(', '), 80)}.`;

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n  ');
}

/** Where the command line writes, and what stops it; defaults to the process's own. */
export interface CliIo {
  /** Writes one line to standard output. */
  readonly out?: (line: string) => void;
  /** Writes one line to standard error. */
  readonly err?: (line: string) => void;
  /** Resolves when the simulator should stop. @default the first SIGINT or SIGTERM */
  readonly stop?: Promise<unknown>;
  /** Called once the simulator listens. */
  readonly onReady?: (simulator: Simulator) => void;
}

function duration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m)
    throw new SimulatorError(
      'INVALID_OPTIONS',
      `${flag} takes a duration such as 500, 2s, 5m or 1h`,
    );
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[
    (m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'
  ];
  return Math.round(Number(m[1]) * unit);
}

function number(value: string, flag: string, check: (n: number) => boolean = () => true): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new SimulatorError('INVALID_OPTIONS', `${flag}: ${JSON.stringify(value)} is not valid`);
  return n;
}

function quirksFlag(value: string): true | QuirkNameValue[] {
  if (value === 'all') return true;
  const names = value.split(',').map((name) => name.trim());
  try {
    return parseQuirks(names, 'INVALID_OPTIONS');
  } catch (error) {
    throw new SimulatorError('INVALID_OPTIONS', `--quirks: ${(error as Error).message}`);
  }
}

/**
 * Reads `jobwatch-sim`'s arguments into simulator options (`undefined` for `--help`).
 * @throws {@link SimulatorError} `INVALID_OPTIONS` on a usage error.
 */
export function parseSimulatorArgs(
  argv: readonly string[],
): (SimulatorOptions & { readonly quiet: boolean }) | undefined {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      // `--quirks` alone means every quirk; `--quirks=a,b` names some.
      args: argv.map((arg) => (arg === '--quirks' ? '--quirks=all' : arg)),
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        context: { type: 'string' },
        'server-context': { type: 'string' },
        'portal-context': { type: 'string' },
        user: { type: 'string', multiple: true },
        seed: { type: 'string' },
        speed: { type: 'string' },
        'manual-clock': { type: 'boolean' },
        retention: { type: 'string' },
        'token-ttl': { type: 'string' },
        'jobs-per-minute': { type: 'string' },
        'min-duration': { type: 'string' },
        'max-duration': { type: 'string' },
        'failure-rate': { type: 'string' },
        'cancel-rate': { type: 'string' },
        'no-control': { type: 'boolean' },
        quirks: { type: 'string' },
        'token-header': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new SimulatorError('INVALID_OPTIONS', (error as Error).message);
  }
  if (values.help) return undefined;
  const str = (k: string) => values[k] as string | undefined;
  const users: Record<string, string> = {};
  for (const entry of (values.user as string[] | undefined) ?? []) {
    const at = entry.indexOf(':');
    if (at <= 0 || at === entry.length - 1)
      throw new SimulatorError('INVALID_OPTIONS', '--user takes name:password');
    users[entry.slice(0, at)] = entry.slice(at + 1);
  }
  if (values['manual-clock'] && str('speed'))
    throw new SimulatorError('INVALID_OPTIONS', '--speed and --manual-clock exclude each other');
  const rate = (n: number) => n >= 0 && n <= 1;
  const jpm = str('jobs-per-minute');
  const options: SimulatorOptions & { quiet: boolean } = {
    quiet: values.quiet === true,
    ...(str('port')
      ? { port: number(str('port')!, '--port', (n) => Number.isInteger(n) && n >= 0 && n <= 65535) }
      : {}),
    ...(str('host') ? { host: str('host')! } : {}),
    ...(str('context') ? { context: str('context')! } : {}),
    ...(str('server-context') ? { serverContext: str('server-context')! } : {}),
    ...(str('portal-context') ? { portalContext: str('portal-context')! } : {}),
    ...(Object.keys(users).length > 0 ? { users } : {}),
    ...(str('seed') ? { seed: number(str('seed')!, '--seed', Number.isInteger) } : {}),
    ...(values['manual-clock']
      ? { clock: 'manual' as const }
      : str('speed')
        ? { clock: { speed: number(str('speed')!, '--speed', (n) => n > 0) } }
        : {}),
    ...(str('retention') ? { retentionMs: duration(str('retention')!, '--retention') } : {}),
    ...(str('token-ttl') ? { tokenTtlMs: duration(str('token-ttl')!, '--token-ttl') } : {}),
    ...(values['no-control'] ? { control: false } : {}),
    ...(str('quirks') !== undefined ? { quirks: quirksFlag(str('quirks')!) } : {}),
    ...(str('token-header') !== undefined
      ? { tokenHeader: parseTokenHeader(str('token-header'), 'INVALID_OPTIONS') }
      : {}),
    ...(jpm
      ? {
          workload: {
            jobsPerMinute: number(jpm, '--jobs-per-minute', (n) => n > 0),
            ...(str('min-duration')
              ? { minDurationMs: duration(str('min-duration')!, '--min-duration') }
              : {}),
            ...(str('max-duration')
              ? { maxDurationMs: duration(str('max-duration')!, '--max-duration') }
              : {}),
            ...(str('failure-rate')
              ? { failureRate: number(str('failure-rate')!, '--failure-rate', rate) }
              : {}),
            ...(str('cancel-rate')
              ? { cancelRate: number(str('cancel-rate')!, '--cancel-rate', rate) }
              : {}),
          },
        }
      : {}),
  };
  if (
    !jpm &&
    ['min-duration', 'max-duration', 'failure-rate', 'cancel-rate'].some(
      (k) => values[k] !== undefined,
    )
  ) {
    throw new SimulatorError('INVALID_OPTIONS', 'workload flags need --jobs-per-minute');
  }
  return options;
}

function formatLog(e: RequestLogEntry): string {
  return `${new Date().toISOString()} ${e.method} ${e.path} ${e.status} ${e.ms.toFixed(1)}ms${e.fault ? ` fault=${e.fault}` : ''}`;
}

function signalled(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/**
 * Runs the simulator from command-line arguments until stopped (SIGINT/SIGTERM by
 * default) and resolves to an exit code (it prints the admin URL first, then the ArcGIS
 * Server admin URL, the services directory URL and the portal URL, one a line): `0` after a clean stop, `2` on a usage error, `1`
 * when it could not start (for example, the port is taken). Reused by `jobwatch sim`.
 *
 * @example
 * ```ts
 * process.exitCode = await runSimulatorCli(process.argv.slice(2));
 * ```
 */
export async function runSimulatorCli(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = io.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  let parsed: ReturnType<typeof parseSimulatorArgs>;
  try {
    parsed = parseSimulatorArgs(argv);
  } catch (error) {
    err(`jobwatch-sim: ${(error as Error).message}`);
    err(SIMULATOR_USAGE);
    return 2;
  }
  if (!parsed) {
    out(SIMULATOR_USAGE);
    return 0;
  }
  const { quiet, ...options } = parsed;
  const stop = io.stop ?? signalled();
  let simulator: Simulator;
  try {
    simulator = await startSimulator({
      ...options,
      ...(quiet ? {} : { log: (e) => err(formatLog(e)) }),
    });
  } catch (error) {
    err(
      `jobwatch-sim: ${isSimulatorError(error) ? error.message : `could not start: ${(error as Error).message}`}`,
    );
    return isSimulatorError(error) ? 2 : 1;
  }
  out(simulator.adminUrl);
  out(simulator.serverAdminUrl);
  out(simulator.restUrl);
  out(simulator.portalUrl);
  const users = Object.keys(options.users ?? { admin: 'admin' }).join(', ');
  const quirks = simulator.quirks();
  const header = simulator.tokenHeader();
  err(
    `jobwatch-sim: token URL ${simulator.tokenUrl}; users: ${users}; seed ${simulator.seed}${
      quirks.length === 0
        ? ''
        : `; quirks: ${quirks.length === QUIRK_NAMES.length ? 'all' : quirks.join(', ')}`
    }${header === 'both' ? '' : `; token only in ${header}`}`,
  );
  io.onReady?.(simulator);
  await stop;
  await simulator.close();
  err('jobwatch-sim: stopped');
  return 0;
}
