#!/usr/bin/env node
// Checks the single-file bundle against its budget (30 KB minified and gzipped) and, with
// `--why`, shows which packages its bytes come from (read from the source map). Exits 1
// over budget. `test/size.test.ts` runs the same measurement, so the budget holds in CI.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The budget of `dist/jobwatch-widget.js`, minified and gzipped (issue 7). */
export const BUDGET = 30 * 1024;

const dist = new URL('../dist/', import.meta.url);

/** A built file's size, minified (as built) and gzipped at level 9, in bytes. */
export function measure(name = 'jobwatch-widget.js') {
  const raw = readFileSync(new URL(name, dist));
  return { minified: raw.length, gzipped: gzipSync(raw, { level: 9 }).length };
}

/** The files the source map of a built file names, as written there. */
export function sourcesOf(name = 'jobwatch-widget.js') {
  return JSON.parse(readFileSync(new URL(`${name}.map`, dist), 'utf8')).sources;
}

/** Minified bytes of a built file by the package they come from, largest first. */
export function breakdown(name = 'jobwatch-widget.js') {
  const raw = readFileSync(new URL(name, dist), 'utf8');
  const map = JSON.parse(readFileSync(new URL(`${name}.map`, dist), 'utf8'));
  const lines = raw.split('\n');
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const decode = (segment) => {
    const out = [];
    let value = 0;
    let shift = 0;
    for (const ch of segment) {
      let digit = B64.indexOf(ch);
      const more = digit & 32;
      digit &= 31;
      value += digit << shift;
      if (more) shift += 5;
      else {
        out.push(value & 1 ? -(value >> 1) : value >> 1);
        value = 0;
        shift = 0;
      }
    }
    return out;
  };
  const bytes = new Map();
  const owner = (source) => {
    const dep = source.match(
      /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/,
    );
    if (dep) return dep[1];
    const ours = source.match(/(packages|apps)\/([^/]+)/);
    return ours ? `@jobwatch/${ours[2]}` : '@jobwatch/widget';
  };
  let src = 0;
  map.mappings.split(';').forEach((mapping, index) => {
    let column = 0;
    let previous;
    const add = (end) => {
      const name = owner(map.sources[previous.src] ?? '');
      bytes.set(name, (bytes.get(name) ?? 0) + end - previous.column);
    };
    for (const segment of mapping.split(',').filter(Boolean)) {
      const [dc = 0, ds] = decode(segment);
      column += dc;
      if (ds !== undefined) src += ds;
      if (previous) add(column);
      previous = { column, src };
    }
    if (previous) add(lines[index]?.length ?? previous.column);
  });
  return [...bytes].sort((a, b) => b[1] - a[1]);
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { minified, gzipped } = measure();
  const line = `jobwatch-widget.js: ${kb(minified)} minified, ${kb(gzipped)} gzipped (budget ${kb(BUDGET)})`;
  if (process.argv.includes('--why')) {
    for (const [name, size] of breakdown()) console.log(`${kb(size).padStart(9)}  ${name}`);
    const direct = measure('jobwatch-widget-direct.js');
    console.log(
      `(direct mode, loaded on demand: jobwatch-widget-direct.js, ${kb(direct.minified)} minified, ${kb(direct.gzipped)} gzipped)`,
    );
  }
  if (gzipped > BUDGET) {
    console.error(`${line}: over budget`);
    process.exit(1);
  }
  console.log(line);
}
