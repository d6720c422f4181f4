/**
 * The runner's parts, apart from the command line: argument parsing, discovery of benchmark
 * files, running them, and the report written to `results/latest.json`.
 */
import { readdirSync } from 'node:fs';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { extname } from 'node:path';
import type { Benchmark, BenchRow } from './harness.js';

/** The command line's usage line. */
export const USAGE = 'usage: bench [--full] [--only <name>]... [--list]';

/** A command line the runner cannot follow; the CLI exits 2 with its message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The parsed command line. */
export interface RunArgs {
  /** `--full`: full-size runs. */
  full: boolean;
  /** `--only <name>` (repeatable, or comma-separated): run just these. Empty: run all. */
  only: string[];
  /** `--list`: print the names and run nothing. */
  list: boolean;
  /** `--help`. */
  help: boolean;
}

/**
 * Parses the runner's arguments. A lone `--` (what `pnpm bench -- …` may pass through) is
 * ignored. @throws {@link UsageError} on anything else it does not know.
 */
export function parseArgs(argv: readonly string[]): RunArgs {
  const args: RunArgs = { full: false, only: [], list: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') continue;
    if (arg === '--full') args.full = true;
    else if (arg === '--list') args.list = true;
    else if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      const names = (value ?? '').split(',').filter(Boolean);
      if (names.length === 0 || value?.startsWith('--')) {
        throw new UsageError('--only needs a benchmark name');
      }
      args.only.push(...names);
    } else throw new UsageError(`unknown argument: ${arg}`);
  }
  return args;
}

/** A benchmark file found by {@link discover}. */
export interface BenchFile {
  /** The file name without its extension: what `--only` matches. */
  name: string;
  /** Where to import it from. */
  url: URL;
}

const LOADABLE = new Set(['.ts', '.js', '.mjs']);

/**
 * The benchmark files in `dir`, sorted by name: `.ts` (under tsx), `.js` or `.mjs` (once
 * compiled), not declaration files, not names starting with `_`. A missing folder has none.
 */
export function discover(dir: URL): BenchFile[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  return files
    .filter((f) => LOADABLE.has(extname(f)) && !/\.d\.[mc]?ts$/.test(f) && !f.startsWith('_'))
    .sort()
    .map((f) => ({ name: f.slice(0, -extname(f).length), url: new URL(f, dir) }));
}

/** Picks the files `--only` names. @throws {@link UsageError} naming any that do not exist. */
export function select(found: readonly BenchFile[], only: readonly string[]): BenchFile[] {
  const unknown = only.filter((n) => !found.some((f) => f.name === n));
  if (unknown.length > 0) {
    const available = found.map((f) => f.name).join(', ') || 'none';
    throw new UsageError(`no benchmark named ${unknown.join(', ')}; available: ${available}`);
  }
  return only.length > 0 ? found.filter((f) => only.includes(f.name)) : [...found];
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

/** A benchmark that threw, or did not keep to the {@link Benchmark} shape. */
export interface BenchFailure {
  /** The file's name. */
  bench: string;
  /** What went wrong, with the stack when there is one. */
  error: string;
}

/** What {@link runAll} returns. */
export interface RunOutcome {
  /** Every row of every benchmark that ran through. */
  rows: BenchRow[];
  /** Every benchmark that did not. */
  failures: BenchFailure[];
}

/**
 * Imports and runs each file in turn; a benchmark that throws or returns something else
 * than rows is recorded as a failure and the others still run.
 */
export async function runAll(
  files: readonly BenchFile[],
  options: { full: boolean; onStart?: (name: string) => void },
): Promise<RunOutcome> {
  const rows: BenchRow[] = [];
  const failures: BenchFailure[] = [];
  for (const file of files) {
    options.onStart?.(file.name);
    try {
      const mod: { default?: unknown } = await import(file.url.href);
      if (!isBenchmark(mod.default)) {
        throw new TypeError('default export is not a Benchmark { name, issue, run }');
      }
      const out: unknown = await mod.default.run({ full: options.full });
      if (!Array.isArray(out) || !out.every(isRow)) {
        throw new TypeError('run() did not resolve to BenchRow[]');
      }
      rows.push(...out);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push({ bench: file.name, error: message });
    }
  }
  return { rows, failures };
}

/** The machine a run happened on, for `latest.json`. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryBytes: number;
  node: string;
  platform: string;
}

/** Reads {@link MachineInfo} from the running process. */
export function machineInfo(): MachineInfo {
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryBytes: totalmem(),
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
  };
}

/** The content of `results/latest.json`. */
export interface RunReport extends RunOutcome {
  /** ISO date when the run started. */
  date: string;
  durationMs: number;
  full: boolean;
  machine: MachineInfo;
}
