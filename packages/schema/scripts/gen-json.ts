/**
 * Writes `json/<kind>.schema.json` for every body `@jobwatch/schema` validates, and removes
 * files of kinds that no longer exist. Run with `pnpm --filter @jobwatch/schema gen:json`.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { jsonSchemaFiles } from './json-schemas.js';

const dir = new URL('../json/', import.meta.url);
mkdirSync(dir, { recursive: true });

const files = jsonSchemaFiles();
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
  console.log(`wrote json/${name}`);
}
for (const name of readdirSync(dir)) {
  if (name.endsWith('.schema.json') && !files.has(name)) {
    rmSync(new URL(name, dir));
    changed += 1;
    console.log(`removed json/${name}`);
  }
}
console.log(`${files.size} schema files, ${changed} changed`);
