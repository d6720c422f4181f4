/**
 * The `jobwatch` command line: commander wiring only; each command's logic lives in its module.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { isDaemonError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from './exit-code.js';
import type { CliIo } from './io.js';

function version(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return '0.0.0';
  }
}

const AUTH_HELP = `
Connection (flags, then environment, then --config, then defaults):
  --url / JOBWATCH_URL             admin root, https://host/<context>/admin
  --token / JOBWATCH_TOKEN         an ArcGIS token, or
  --username / JOBWATCH_USERNAME   with --password-file or JOBWATCH_PASSWORD
  --token-url                      defaults to <host>/<context>/sharing/rest/generateToken
  --token-header / JOBWATCH_TOKEN_HEADER
                                   auto (default), x-esri-authorization or authorization
Durations are written with a unit: 500ms, 90s, 30m, 1h30m, 2d, 3w, 1y (a bare number is refused).`;

function connectionOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'admin root URL (https://host/<context>/admin)')
    .option('--token <token>', 'ArcGIS token (prefer JOBWATCH_TOKEN: flags land in shell history)')
    .option('--username <name>', 'username for a generated token')
    .option('--password-file <path>', 'file holding the password')
    .option('--token-url <url>', 'generateToken URL, when not derived from --url')
    .addOption(
      new Option(
        '--token-header <header>',
        'header that carries the token (auto: X-Esri-Authorization, else Authorization on a 499)',
      ).choices(['auto', 'x-esri-authorization', 'authorization']),
    )
    .option('--config <file>', 'JSON or YAML config file to take the deployment from')
    .option('--deployment <name>', 'which deployment of --config');
}

/** The options `wait` and `submit --wait` share. */
function waitOptions(cmd: Command): Command {
  return cmd
    .option('--timeout <duration>', 'give up after this long (exit 4), e.g. 90s, 30m, 1h30m')
    .option(
      '--max-unreachable <duration>',
      'give up when the server has answered nothing at all for this long (exit 5); a 502 is an answer',
      '10m',
    )
    .option('--json', 'print one JSON snapshot per line per change')
    .option('--verbose', "also print what in the server's answers was not in its documented shape")
    .option(
      '--daemon <url>',
      'read how long jobs usually take from this jobwatch daemon (JOBWATCH_DAEMON_URL; key in JOBWATCH_DAEMON_KEY)',
    );
}

/**
 * Parses `argv` (without `node` and the script) and runs the command.
 * Resolves the exit code; never throws, never calls `process.exit`.
 *
 * @example
 * ```ts
 * // `jobwatch wait <jobid> --timeout 30m` from a script of your own, with its exit code.
 * const code = await runCli(['wait', jobid, '--timeout', '30m'], {
 *   stdout: process.stdout,
 *   stderr: process.stderr,
 *   env: process.env,
 * });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code: ExitCodeValue = ExitCode.OK;
  const program = new Command('jobwatch')
    .description('Wait for ArcGIS Enterprise admin jobs in scripts, or watch them as a service.')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run jobwatch --help for usage)');

  waitOptions(
    connectionOptions(
      program
        .command('wait')
        .description('wait for jobs to end; the exit code tells how they ended')
        .argument(
          '<job...>',
          'admin job ids (at --url), or job URLs of any source: admin, ArcGIS Server admin, geoprocessing, portal item',
        ),
    ),
  )
    .addHelpText(
      'after',
      `${AUTH_HELP}

A job is a bare admin job id (at --url), or the URL of a job of any source:
  https://host/<context>/admin/jobs/<jobid>                            ArcGIS Enterprise admin job
  https://host/<context>/admin/system/jobs/<jobid>                     ArcGIS Server admin job
  https://host/<context>/rest/services/[<folder>/]<service>/GPServer/<task>/jobs/<jobid>
                                                                       geoprocessing job
  https://host/<context>/sharing/rest/content/users/<user>/items/<itemId>/status?jobType=<type>&jobId=<id>
                                                                       portal item job
The credentials go only to the server of --url (or JOBWATCH_URL); without one, to the server of
the job URLs when they all name one. A job URL on another server is read without a token.
Where the source tells, the live line shows progress and the current step; a succeeded
geoprocessing job's result URLs are printed at the end, "<job>  <name>  <url>" one a line.

When a job fails or is cancelled, the reason the server gave is printed (and is the snapshot's
"reason" with --json).

Exit codes: 0 all COMPLETED; 1 a job FAILED, TIMED OUT or ERROR; 3 CANCELLED; 4 --timeout ran out;
5 a job could not be watched (not found, credentials refused, no answer for --max-unreachable);
2 usage or configuration.
When outcomes mix, the first of 2, 5, 1, 4, 3, 0 wins.

With history of a job's kind, wait paces by it and shows how long is likely left. History
comes from --daemon <url> (GET /api/models, with JOBWATCH_DAEMON_KEY), or from its own cache,
$XDG_CACHE_HOME/jobwatch/models.json (else ~/.cache/jobwatch/models.json), which every wait
adds to.

Examples:
  $ export JOBWATCH_URL=https://gis.example.com/arcgis/admin JOBWATCH_TOKEN=...
  $ jobwatch wait j2bcbcd49-83a4-4cc1-a034-40e4a266e96d --timeout 30m
  $ jobwatch wait j1 j2 --username admin --password-file ~/.arcgis-pass --json | jq .status
  $ jobwatch wait https://gis.example.com/server/admin/system/jobs/j97dec204-32b7-4a3f-bbb7-7565e0f8259f`,
    )
    .action(async (ids: string[], flags) => {
      const { runWait } = await import('./wait.js');
      code = await runWait(ids, flags, io);
    });

  waitOptions(
    connectionOptions(
      program
        .command('submit')
        .description(
          'submit a geoprocessing job and print its URL; with --wait, wait for it as wait does',
        )
        .argument(
          '<task URL>',
          'https://host/<context>/rest/services/[<folder>/]<service>/GPServer/<task>',
        )
        .option(
          '--param <name=value>',
          'a parameter of the task (repeat for each); the value as the task takes it, JSON for feature sets, lists and objects',
          (value: string, previous: string[] = []) => [...previous, value],
        )
        .option('--wait', 'wait for the job to end; exit codes as for wait'),
    ),
  )
    .addHelpText(
      'after',
      `${AUTH_HELP}

The job is submitted once (a second POST would start a second job), and its URL printed on
stdout; with --json, {"jobid", "url"}. With --wait the job is then waited for as
"jobwatch wait <job URL>" waits (live line, progress, reasons), and on success its result URLs
are printed, "<job>  <name>  <url>" one a line. To cancel a running job, ask its server
(POST <job URL>/cancel); stopping jobwatch only stops watching.

Exit codes: as for wait (0 succeeded, 1 failed or timed out, 3 cancelled, 4 --timeout, 5 could
not be submitted or watched, 2 usage).

Examples:
  $ jobwatch submit https://gis.example.com/server/rest/services/Tools/Buffer/GPServer/BufferPoints \\
      --param 'Input_Features={"features":[{"geometry":{"x":-117.19,"y":34.05}}]}' \\
      --param 'Distance={"distance":100,"units":"esriMeters"}' --wait`,
    )
    .action(async (task: string, flags) => {
      const { runSubmit } = await import('./submit.js');
      code = await runSubmit(task, flags, io);
    });

  connectionOptions(
    program
      .command('watch')
      .description('print one JSON snapshot per line per change, until the jobs end')
      .argument('[jobid...]', 'job ids to watch')
      .option('--discover', 'also watch every new job, until interrupted')
      .option('--list-interval <duration>', 'how often to read the job list with --discover'),
  )
    .addHelpText(
      'after',
      `${AUTH_HELP}

Exit codes: 0 done (or interrupted with --discover); 5 a job could not be watched; 2 usage.

Examples:
  $ jobwatch watch j2bcbcd49-83a4-4cc1-a034-40e4a266e96d --url https://gis.example.com/arcgis/admin
  $ jobwatch watch --discover | jq -c '{jobid, status}'`,
    )
    .action(async (ids: string[], flags) => {
      const { runWatch } = await import('./watch.js');
      code = await runWatch(ids, flags, io);
    });

  program
    .command('serve')
    .description('run the headless daemon: HTTP API, event stream, webhooks, metrics')
    .option('--config <file>', 'JSON or YAML config file')
    .option(
      '--listen <host:port>',
      'address to listen on (JOBWATCH_LISTEN; default 127.0.0.1:8787)',
    )
    .option('--data-dir <dir>', 'directory of the SQLite database (JOBWATCH_DATA_DIR)')
    .addOption(
      new Option('--log-level <level>', 'log level (JOBWATCH_LOG_LEVEL)').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    )
    .addHelpText(
      'after',
      `
Without --config, one deployment named "default" comes from JOBWATCH_URL with JOBWATCH_TOKEN or
JOBWATCH_USERNAME + JOBWATCH_PASSWORD; JOBWATCH_API_KEYS (comma-separated) protects /api.
Without an API key the daemon only listens on loopback.

Examples:
  $ jobwatch serve --config /etc/jobwatch/config.yaml
  $ JOBWATCH_URL=https://gis.example.com/arcgis/admin JOBWATCH_TOKEN=... jobwatch serve --listen 127.0.0.1:8787`,
    )
    .action(async (flags) => {
      const { runServe } = await import('./serve.js');
      code = await runServe(flags, io);
    });

  program
    .command('sim')
    .description('run the ArcGIS admin API simulator and print its admin URL (jobwatch sim --help)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument(
      '[options...]',
      "the simulator's options: --port <n>, --speed <factor>, --manual-clock, --quirks[=<names>], --token-header <mode>, ...",
    )
    .action(async (args: string[]) => {
      const { runSim } = await import('./sim.js');
      code = await runSim(args, io);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    if (isDaemonError(error)) {
      io.stderr.write(`jobwatch: ${error.message}\n`);
      return ExitCode.USAGE;
    }
    const code = (error as { code?: unknown } | null)?.code;
    io.stderr.write(
      `jobwatch: ${error instanceof Error ? error.message : String(error)}${typeof code === 'string' ? ` (${code})` : ''}\n`,
    );
    // Loaded only now, so that `--help` does not load the client.
    const { ConfigError } = await import('@jobwatch/client');
    return error instanceof ConfigError ? ExitCode.USAGE : ExitCode.UNWATCHABLE;
  }
}
