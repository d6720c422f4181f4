/**
 * Writes `src/generated/<name>.ts`, the precompiled validators, from the TypeBox schemas,
 * and removes files of validators that no longer exist. Run with
 * `pnpm --filter @jobwatch/schema gen:validators` after changing a schema.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { VALIDATORS_DIR, validatorModules } from './validators.js';

const dir = new URL(`../${VALIDATORS_DIR}`, import.meta.url);
mkdirSync(dir, { recursive: true });
const files = validatorModules();
let changed = 0;
for (const [name, text] of files) {
  const url = new URL(name, dir);
  let old: string | undefined;
  try {
    old = readFileSync(url, 'utf8');
  } catch {
    old = undefined;
  }
  if (old === text) continue;
  writeFileSync(url, text);
  changed += 1;
  console.log(`wrote ${VALIDATORS_DIR}${name}`);
}
for (const name of readdirSync(dir)) {
  if (name.endsWith('.ts') && !files.has(name)) {
    rmSync(new URL(name, dir));
    changed += 1;
    console.log(`removed ${VALIDATORS_DIR}${name}`);
  }
}
console.log(`${files.size} validators, ${changed} changed`);
