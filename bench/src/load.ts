/**
 * Load: the daemon benchmark (`benches/daemon.ts`) at its full size — 10,000 jobs and 1,000
 * event-stream clients — run several times (default 3), reporting the median of each figure.
 *
 * Usage (from the repo root, after `pnpm build`):
 * `pnpm --filter jobwatch-bench load [-- --runs 3] [-- --quick]`. `--quick` runs the
 * benchmark's small size instead (a smoke test of this script). Writes `results/load.json`.
 *
 * The daemon benchmark takes only `{ full }`: its job and client counts are fixed at 10,000
 * and 1,000 for the full size, which is what this script needs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import daemonBench from './benches/daemon.js';
import { type BenchRow, percentile, row, table } from './harness.js';
import { machineInfo } from './runner.js';

const USAGE = 'usage: load [--runs <n>=3] [--quick]';

function parseLoadArgs(argv: readonly string[]): { runs: number; full: boolean } {
  const args = { runs: 3, full: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') continue;
    if (arg === '--quick') args.full = false;
    else if (arg === '--runs') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 20)
        throw new Error(`--runs: expected 1..20, got ${argv[i]}\n${USAGE}`);
      args.runs = n;
    } else throw new Error(`unknown argument: ${arg}\n${USAGE}`);
  }
  return args;
}

/** Medians of each metric over several runs, keeping the first run's target. */
export function medians(runs: ReadonlyArray<readonly BenchRow[]>): BenchRow[] {
  const first = runs[0] ?? [];
  return first.map((r) => {
    const values = runs
      .map((rows) => rows.find((x) => x.metric === r.metric)?.value)
      .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    const value = percentile(values, 50);
    const bound = r.target ? Number(r.target.replace(/^[≤≥]\s*/, '')) : Number.NaN;
    const target = r.target?.startsWith('≤')
      ? { atMost: bound }
      : r.target?.startsWith('≥')
        ? { atLeast: bound }
        : undefined;
    return row('load', `${r.metric} (median of ${values.length})`, value, r.unit, target);
  });
}

async function main(): Promise<void> {
  const args = parseLoadArgs(process.argv.slice(2));
  const runs: BenchRow[][] = [];
  const started = new Date();
  for (let i = 0; i < args.runs; i++) {
    process.stderr.write(`load: run ${i + 1}/${args.runs} (${args.full ? 'full' : 'quick'})…\n`);
    const rows = await daemonBench.run({ full: args.full });
    process.stderr.write(`${table(rows)}\n`);
    runs.push(rows);
  }
  const result = medians(runs);
  console.log(table(result));
  const out = new URL('../results/', import.meta.url);
  mkdirSync(out, { recursive: true });
  writeFileSync(
    new URL('load.json', out),
    `${JSON.stringify(
      {
        date: started.toISOString(),
        durationMs: Date.now() - started.getTime(),
        full: args.full,
        machine: machineInfo(),
        medians: result,
        runs,
      },
      null,
      2,
    )}\n`,
  );
}

await main();
