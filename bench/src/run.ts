/**
 * Runs the benchmarks in `src/benches/` and prints one table.
 *
 * Usage: `tsx src/run.ts [--full] [--only <name>]...` (from the repo root:
 * `pnpm bench -- --only schema`). Writes `results/latest.json` with the rows and the machine
 * they ran on. Exits 1 when a benchmark throws, 2 on a usage error; a missed target is
 * reported in the table, not as a failure.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { basename, extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Benchmark, type BenchRow, table } from './harness.js';

const USAGE = 'usage: bench [--full] [--only <name>]... [--list]';

interface Args {
  full: boolean;
  only: string[];
  list: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { full: false, only: [], list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') continue;
    if (arg === '--full') args.full = true;
    else if (arg === '--list') args.list = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!value) throw new UsageError('--only needs a benchmark name');
      args.only.push(...value.split(',').filter(Boolean));
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new UsageError(`unknown argument: ${arg}`);
  }
  return args;
}

class UsageError extends Error {}

const benchDir = new URL('./benches/', import.meta.url);
const resultsDir = new URL('../results/', import.meta.url);

/** Benchmark files next to this runner: `.ts` under tsx, `.js` once compiled. */
function discover(): { name: string; url: URL }[] {
  const ext = extname(fileURLToPath(import.meta.url));
  let files: string[];
  try {
    files = readdirSync(benchDir);
  } catch {
    return [];
  }
  return files
    .filter((f) => extname(f) === ext && !f.endsWith(`.d${ext}`) && !f.startsWith('_'))
    .sort()
    .map((f) => ({ name: basename(f, ext), url: new URL(f, benchDir) }));
}

function isBenchmark(value: unknown): value is Benchmark {
  if (typeof value !== 'object' || value === null) return false;
  const b = value as Partial<Benchmark>;
  return typeof b.name === 'string' && typeof b.issue === 'number' && typeof b.run === 'function';
}

function isRow(value: unknown): value is BenchRow {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<BenchRow>;
  return (
    typeof r.bench === 'string' &&
    typeof r.metric === 'string' &&
    typeof r.value === 'number' &&
    typeof r.unit === 'string'
  );
}

function machine() {
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryBytes: totalmem(),
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
  };
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  }
  const found = discover();
  if (args.list) {
    for (const f of found) console.log(f.name);
    return 0;
  }
  const unknown = args.only.filter((n) => !found.some((f) => f.name === n));
  if (unknown.length > 0) {
    console.error(
      `no benchmark named ${unknown.join(', ')}; available: ${found.map((f) => f.name).join(', ') || 'none'}`,
    );
    return 2;
  }
  const selected = args.only.length > 0 ? found.filter((f) => args.only.includes(f.name)) : found;

  const rows: BenchRow[] = [];
  const failures: { bench: string; error: string }[] = [];
  const started = new Date();
  for (const file of selected) {
    process.stderr.write(`running ${file.name}${args.full ? ' (full)' : ''}…\n`);
    try {
      const mod: { default?: unknown } = await import(pathToFileURL(fileURLToPath(file.url)).href);
      if (!isBenchmark(mod.default)) {
        throw new TypeError('default export is not a Benchmark { name, issue, run }');
      }
      const out = await mod.default.run({ full: args.full });
      if (!Array.isArray(out) || !out.every(isRow)) {
        throw new TypeError('run() did not return BenchRow[]');
      }
      rows.push(...out);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push({ bench: file.name, error: message });
      console.error(`✗ ${file.name} failed: ${message}`);
    }
  }

  console.log(rows.length > 0 ? table(rows) : 'no benchmark rows');
  const missed = rows.filter((r) => r.met === false);
  if (missed.length > 0) console.log(`\n${missed.length} target(s) missed`);

  mkdirSync(resultsDir, { recursive: true });
  const report = {
    date: started.toISOString(),
    durationMs: Date.now() - started.getTime(),
    full: args.full,
    machine: machine(),
    rows,
    failures,
  };
  const out = new URL('latest.json', resultsDir);
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`wrote ${fileURLToPath(out)}\n`);
  return failures.length > 0 ? 1 : 0;
}

process.exitCode = await main();
