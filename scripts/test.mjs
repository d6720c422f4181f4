#!/usr/bin/env node
// The README's test command: lint, changesets, build + typecheck (type tests included), the
// API reference (TypeDoc, warnings as errors), the published packages' shape (publint, attw),
// then every package's tests (the examples' and the packed-install test among them). Ends with
// one plain line, `N passed, N failed`, summed over all packages; a failing lint, changeset,
// typecheck, docs or package check counts as one failure so the summary never hides it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
};
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env }).status === 0;

const workspaces = ['packages', 'apps', 'bench', 'e2e', 'examples']
  .flatMap((dir) =>
    dir === 'bench' || dir === 'e2e'
      ? [dir]
      : readdirSync(join(root, dir)).map((d) => join(dir, d)),
  )
  .filter((dir) => existsSync(join(root, dir, 'package.json')));
for (const dir of workspaces)
  rmSync(join(root, dir, '.test-results'), { recursive: true, force: true });

/**
 * `changeset status`: the changesets parse and every changed package has one. It compares
 * with the branch `main`, which a clone of main has; a clone of another branch compares with
 * `origin/main`; with neither there is nothing to compare with.
 */
function changesetStatus() {
  const has = (ref) =>
    spawnSync('git', ['rev-parse', '--verify', '--quiet', ref], { cwd: root }).status === 0;
  if (has('main')) return run('pnpm', ['exec', 'changeset', 'status']);
  if (has('origin/main'))
    return run('pnpm', ['exec', 'changeset', 'status', '--since=origin/main']);
  console.log('changesets: no branch main (or origin/main) in this clone, so nothing to compare');
  return true;
}

let passed = 0;
let failed = 0;
const step = (name, ok) => {
  if (!ok) {
    failed += 1;
    console.error(`\n✗ ${name} failed`);
  }
  return ok;
};

step('lint', run('pnpm', ['exec', 'biome', 'check', '.']));
step('changesets', changesetStatus());
const built = step(
  'build',
  run('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']),
);
step('typecheck', run('pnpm', ['exec', 'turbo', 'run', 'typecheck', '--output-logs=errors-only']));
step('docs', run('pnpm', ['exec', 'typedoc', '--logLevel', 'Warn']));
if (built) step('packages', run('node', ['scripts/check-packages.mjs']));
const testsRan =
  built && run('pnpm', ['exec', 'turbo', 'run', 'test', '--continue', '--concurrency=1']);

for (const dir of workspaces) {
  const file = join(root, dir, '.test-results', 'vitest.json');
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
  // A suite that failed to load reports no tests at all: count it so it cannot pass silently.
  for (const suite of report.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed += 1;
  }
}
if (built && !testsRan && failed === 0) failed += 1;

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
