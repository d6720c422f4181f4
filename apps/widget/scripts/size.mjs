#!/usr/bin/env node
// Checks the single-file bundle against its budget (30 KB minified and gzipped) and, with
// `--why`, shows which packages its bytes come from (read from the source map).
// Exits 1 over budget.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET = 30 * 1024;
const file = new URL('../dist/jobwatch-widget.js', import.meta.url);
const raw = readFileSync(file);
const gzipped = gzipSync(raw, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const line = `jobwatch-widget.js: ${kb(raw.length)} minified, ${kb(gzipped)} gzipped (budget ${kb(BUDGET)})`;

if (process.argv.includes('--why')) {
  const map = JSON.parse(
    readFileSync(new URL('../dist/jobwatch-widget.js.map', import.meta.url), 'utf8'),
  );
  const lines = raw.toString('utf8').split('\n');
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
  for (const [name, size] of [...bytes].sort((a, b) => b[1] - a[1]))
    console.log(`${kb(size).padStart(9)}  ${name}`);
}

if (gzipped > BUDGET) {
  console.error(`${line}: over budget`);
  process.exit(1);
}
console.log(line);
