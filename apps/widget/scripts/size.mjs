#!/usr/bin/env node
// Fails when the single-file bundle grows past its budget, minified and gzipped.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET = 30 * 1024;
const file = new URL('../dist/jobwatch-widget.js', import.meta.url);
const raw = readFileSync(file);
const gzipped = gzipSync(raw, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const line = `jobwatch-widget.js: ${kb(raw.length)} minified, ${kb(gzipped)} gzipped (budget ${kb(BUDGET)})`;
if (gzipped > BUDGET) {
  console.error(`${line}: over budget`);
  process.exit(1);
}
console.log(line);
