/**
 * `jobwatch sim`: the simulator's own command-line runner, under the `jobwatch` name.
 */
import { runSimulatorCli } from '@jobwatch/simulator';
import type { ExitCodeValue } from './exit-codes.js';
import { type CliIo, interrupted } from './io.js';

/**
 * Runs the simulator with `args` (`--port`, `--speed`, `--manual-clock`, `--quirks[=<names>]`,
 * `--token-header <mode>`, … as `jobwatch sim --help` lists), passed through unchanged. Prints its admin URL as the first line, then the ArcGIS Server
 * admin URL, the services directory URL and the portal URL; runs until SIGINT/SIGTERM, exits 0
 * (2 on a usage error, 1 when it could not start).
 */
export async function runSim(args: readonly string[], io: CliIo): Promise<ExitCodeValue> {
  const code = await runSimulatorCli(args, {
    out: (line) => io.stdout.write(`${line}\n`),
    err: (line) => io.stderr.write(`${line}\n`),
    stop: interrupted(io.interrupt),
  });
  return (code === 0 || code === 1 || code === 2 ? code : 1) as ExitCodeValue;
}
