#!/usr/bin/env node
// What users of the published packages meet: for every public workspace package, publint
// (package.json against the files a pack would ship) and Are the Types Wrong (every export
// resolves to JavaScript and types under Node's ESM resolution and bundlers; the packages are
// ESM-only, so CommonJS resolution is not asked for); the fields a registry shows; and a
// README that opens with how to install it, an example and a link to its API reference.
// Exits non-zero on any problem.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

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
/** Fields npm shows on a package's page, or needs to find its repository. */
const REGISTRY_FIELDS = ['description', 'keywords', 'homepage', 'repository', 'license', 'files'];
/** The README's opening: this many lines hold the install line, an example and the link. */
const OPENING_LINES = 45;

/** Problems with what the registry shows of the package in `dir`. */
function registryProblems(dir, pkg) {
  const problems = REGISTRY_FIELDS.filter((field) => {
    const value = pkg[field];
    return value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
  }).map((field) => `package.json has no ${field}`);
  const directory = relative(root, dir);
  if (pkg.repository && pkg.repository.directory !== directory)
    problems.push(`repository.directory should be ${directory}`);
  if (pkg.files && !pkg.files.includes('!dist/.tsbuildinfo'))
    problems.push("files should leave out dist/.tsbuildinfo (the compiler's own state)");
  const opening = readFileSync(join(dir, 'README.md'), 'utf8').split('\n').slice(0, OPENING_LINES);
  const text = opening.join('\n');
  if (!new RegExp(`npm install (--save-dev )?${pkg.name.replace('/', '\\/')}\\b`).test(text))
    problems.push(`README does not open with \`npm install ${pkg.name}\``);
  const blocks = [...text.matchAll(/^```\w*\n([\s\S]*?)^```/gm)].map((m) => m[1]);
  if (!blocks.some((code) => /\bimport\b|\bnpx jobwatch\b/.test(code)))
    problems.push('README does not open with an example (code that imports it or runs it)');
  const module = `_${pkg.name.replace('@', '').replace(/\//g, '_')}.html`;
  if (!text.includes(`/modules/${module}`))
    problems.push(`README does not link its API reference (…/modules/${module}) near the top`);
  return problems;
}

for (const dir of packages) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const { name } = pkg;
  const problems = registryProblems(dir, pkg);
  if (problems.length > 0) {
    bad += 1;
    console.error(`✗ ${name}: ${problems.join('; ')}`);
  }
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
    ? `packages: ${packages.length} checked (publint, attw, registry fields, README), no problems`
    : `packages: ${bad} problem(s)`,
);
process.exit(bad === 0 ? 0 : 1);
