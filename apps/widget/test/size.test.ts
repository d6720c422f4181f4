/**
 * The size budget of the single file (issue 7: at most 30 KB minified and gzipped), checked
 * on the built file on every test run, and what keeps it there: nothing that compiles
 * schemas, and direct mode's code in its own file, loaded only by the pages that use it.
 * `pnpm --filter @jobwatch/widget size --why` shows where the bytes come from.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUDGET, breakdown, measure, sourcesOf } from '../scripts/size.mjs';

const dist = new URL('../dist/', import.meta.url);
const text = (name: string) => readFileSync(new URL(name, dist), 'utf8');
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

describe('the single file', () => {
  it('is within its budget of 30 KB, minified and gzipped', () => {
    const { gzipped } = measure('jobwatch-widget.js');
    const why = breakdown('jobwatch-widget.js')
      .map(([name, size]) => `${name} ${kb(size)}`)
      .join(', ');
    expect(
      gzipped,
      `${kb(gzipped)} gzipped; minified bytes by package: ${why}`,
    ).toBeLessThanOrEqual(BUDGET);
  });

  it('carries no schema compiler, schema builder or admin client', () => {
    const sources = sourcesOf('jobwatch-widget.js');
    const unwanted = sources.filter((s) =>
      /node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?(ajv|typebox|ky|fast-uri)\/|packages\/schema\/dist\/(schemas|compile)|packages\/client\/dist\/client\.js/.test(
        s,
      ),
    );
    expect(unwanted).toEqual([]);
    // What it does carry to read the daemon's stream: the snapshot's precompiled validator.
    expect(sources.some((s) => s.endsWith('packages/schema/dist/generated/snapshot.js'))).toBe(
      true,
    );
  });

  it('loads direct mode from beside itself, and nothing else', () => {
    const main = text('jobwatch-widget.js');
    const specifiers = [...main.matchAll(/\bimport\s*\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map(
      (m) => m[1],
    );
    expect(specifiers).toEqual(['./jobwatch-widget-direct.js']);
    expect(main).not.toMatch(/^\s*import\s[^(]/m);
  });
});

describe('the direct-mode file', () => {
  it('is self-contained: it imports nothing', () => {
    const direct = text('jobwatch-widget-direct.js');
    expect(direct).not.toMatch(/\bimport\s*[({"'`]|^\s*import\s/m);
    expect(direct).toMatch(/export\s*\{[^}]*watchDirect/);
  });

  it('carries the admin client and the body validators, but no schema compiler', () => {
    const sources = sourcesOf('jobwatch-widget-direct.js');
    expect(sources.some((s) => s.endsWith('packages/client/dist/client.js'))).toBe(true);
    expect(sources.some((s) => s.endsWith('packages/schema/dist/generated/job.js'))).toBe(true);
    expect(sources.filter((s) => /\/(ajv|typebox)\/|schema\/dist\/compile/.test(s))).toEqual([]);
  });
});
