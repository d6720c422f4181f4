#!/usr/bin/env node
// What users of the published packages meet: for every public workspace package, publint
// (package.json against the files a pack would ship) and Are the Types Wrong (every export
// resolves to JavaScript and types under Node's ESM resolution and bundlers; the packages are
// ESM-only, so CommonJS resolution is not asked for). Exits non-zero on any problem.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const packages = ['packages', 'apps']
  .flatMap((dir) => readdirSync(join(root, dir)).map((d) => join(root, dir, d)))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .filter((dir) => !JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private);

let bad = 0;
const check = (name, cmd, args, cwd) => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status === 0) return;
  bad += 1;
  console.error(`✗ ${name}\n${r.stdout}${r.stderr}`);
};
for (const dir of packages) {
  const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  check(`publint ${name}`, 'pnpm', ['exec', 'publint', '--strict'], dir);
  check(
    `attw ${name}`,
    'pnpm',
    ['exec', 'attw', '--pack', '.', '--profile', 'esm-only', '--format', 'ascii'],
    dir,
  );
}
console.log(
  bad === 0
    ? `packages: ${packages.length} checked with publint and attw, no problems`
    : `packages: ${bad} problem(s)`,
);
process.exit(bad === 0 ? 0 : 1);
