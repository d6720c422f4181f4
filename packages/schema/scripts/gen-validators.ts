/**
 * Writes `src/generated/validators.ts`, the precompiled validators, from the TypeBox
 * schemas. Run with `pnpm --filter @jobwatch/schema gen:validators` after changing a schema.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { VALIDATORS_FILE, validatorsModule } from './validators.js';

const url = new URL(`../${VALIDATORS_FILE}`, import.meta.url);
mkdirSync(new URL('.', url), { recursive: true });
const text = validatorsModule();
let old: string | undefined;
try {
  old = readFileSync(url, 'utf8');
} catch {
  old = undefined;
}
if (old === text) console.log(`${VALIDATORS_FILE} is up to date`);
else {
  writeFileSync(url, text);
  console.log(`wrote ${VALIDATORS_FILE} (${text.length} characters)`);
}
