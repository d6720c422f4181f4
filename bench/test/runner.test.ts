import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { discover, machineInfo, parseArgs, runAll, select, UsageError } from '../src/runner.js';

describe('parseArgs', () => {
  it('reads --full, --list and --only in both forms, repeated or comma-separated', () => {
    expect(parseArgs([])).toEqual({ full: false, only: [], list: false, help: false });
    expect(parseArgs(['--', '--full', '--only', 'schema', '--only=rx,daemon'])).toEqual({
      full: true,
      only: ['schema', 'rx', 'daemon'],
      list: false,
      help: false,
    });
    expect(parseArgs(['--list']).list).toBe(true);
    expect(parseArgs(['-h']).help).toBe(true);
  });

  it.each([[['--only']], [['--only=']], [['--only', '--full']], [['--fast']], [['schema']]])(
    'refuses %j',
    (argv) => {
      expect(() => parseArgs(argv)).toThrow(UsageError);
    },
  );
});

describe('discovery and running', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobwatch-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  write(
    'good.mjs',
    `export default { name: 'good', issue: 1, async run({ full }) {
      return [{ bench: 'good', metric: 'full', value: full ? 1 : 0, unit: 'flag' }];
    } };`,
  );
  write(
    'throws.mjs',
    `export default { name: 'throws', issue: 1, async run() { throw new Error('boom'); } };`,
  );
  write('shapeless.mjs', 'export default { name: 42 };');
  write(
    'badrows.mjs',
    `export default { name: 'badrows', issue: 1, async run() { return [{ value: 'x' }]; } };`,
  );
  write('_helper.mjs', 'export const x = 1;');
  write('types.d.ts', 'export {};');
  write('notes.md', '# not a benchmark');
  const url = new URL(`${pathToFileURL(dir).href}/`);

  it('finds benchmark files by name, skipping helpers, declarations and other files', () => {
    expect(discover(url).map((f) => f.name)).toEqual(['badrows', 'good', 'shapeless', 'throws']);
    expect(discover(new URL('./missing/', url))).toEqual([]);
  });

  it('selects by --only, and names what does not exist', () => {
    const found = discover(url);
    expect(select(found, []).map((f) => f.name)).toHaveLength(4);
    expect(select(found, ['good']).map((f) => f.name)).toEqual(['good']);
    expect(() => select(found, ['good', 'nope'])).toThrow(
      'no benchmark named nope; available: badrows, good, shapeless, throws',
    );
  });

  it('runs each, passing --full, and records the ones that fail without stopping', async () => {
    const started: string[] = [];
    const outcome = await runAll(discover(url), { full: true, onStart: (n) => started.push(n) });
    expect(started).toEqual(['badrows', 'good', 'shapeless', 'throws']);
    expect(outcome.rows).toEqual([{ bench: 'good', metric: 'full', value: 1, unit: 'flag' }]);
    expect(outcome.failures.map((f) => f.bench)).toEqual(['badrows', 'shapeless', 'throws']);
    expect(outcome.failures.find((f) => f.bench === 'throws')?.error).toContain('boom');
    expect(outcome.failures.find((f) => f.bench === 'shapeless')?.error).toContain(
      'not a Benchmark',
    );
    expect(outcome.failures.find((f) => f.bench === 'badrows')?.error).toContain('BenchRow[]');
  });

  it('describes the machine', () => {
    const m = machineInfo();
    expect(m.cores).toBeGreaterThan(0);
    expect(m.memoryBytes).toBeGreaterThan(0);
    expect(m.node).toBe(process.version);
    expect(m.cpu.length).toBeGreaterThan(0);
  });
});

describe('the schema benchmark', () => {
  it('is found by name and default-exports a Benchmark', async () => {
    const file = discover(new URL('../src/benches/', import.meta.url)).find(
      (f) => f.name === 'schema',
    );
    expect(file).toBeDefined();
    const mod = (await import(file!.url.href)) as { default: { name: unknown; issue: unknown } };
    expect(mod.default).toMatchObject({ name: 'schema', issue: 2 });
  });
});
