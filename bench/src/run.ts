/**
 * Runs the benchmarks in `src/benches/` and prints one table.
 *
 * Usage: `tsx src/run.ts [--full] [--only <name>]... [--list]` (from the repo root:
 * `pnpm bench -- --only schema`). Writes `results/latest.json` with the rows and the machine
 * they ran on. Exits 1 when a benchmark fails, 2 on a usage error; a missed target is
 * reported in the table, not as a failure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { table } from './harness.js';
import {
  discover,
  machineInfo,
  parseArgs,
  type RunReport,
  runAll,
  select,
  USAGE,
  UsageError,
} from './runner.js';

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const found = discover(new URL('./benches/', import.meta.url));
  if (args.list) {
    for (const f of found) console.log(f.name);
    return 0;
  }
  const files = select(found, args.only);

  const started = new Date();
  const { rows, failures } = await runAll(files, {
    full: args.full,
    onStart: (name) => process.stderr.write(`running ${name}${args.full ? ' (full)' : ''}…\n`),
  });
  for (const f of failures) console.error(`✗ ${f.bench} failed: ${f.error}`);

  console.log(rows.length > 0 ? table(rows) : 'no benchmark rows');
  const missed = rows.filter((r) => r.met === false).length;
  if (missed > 0) console.log(`\n${missed} target${missed === 1 ? '' : 's'} missed`);

  const report: RunReport = {
    date: started.toISOString(),
    durationMs: Date.now() - started.getTime(),
    full: args.full,
    machine: machineInfo(),
    rows,
    failures,
  };
  const resultsDir = new URL('../results/', import.meta.url);
  mkdirSync(resultsDir, { recursive: true });
  const out = new URL('latest.json', resultsDir);
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`wrote ${fileURLToPath(out)}\n`);
  return failures.length > 0 ? 1 : 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`${error.message}\n${USAGE}`);
  process.exitCode = 2;
}
