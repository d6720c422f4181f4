/**
 * The package as a consumer meets it: the npm entry defines nothing and leaves lit to the
 * consumer's bundler; `./define` registers the elements and is safe to run twice; the single
 * file imports nothing; the Custom Elements Manifest describes the elements.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkgDir = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', pkgDir), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  customElements: string;
  dependencies: Record<string, string>;
};
const TAGS = ['jobwatch-status', 'jobwatch-job', 'jobwatch-jobs'];
/** A static or dynamic import of a bare specifier (a package, not a file). */
const BARE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](?![./])[^"']+["']/;

describe('the npm package', () => {
  it('points every export at a built file', () => {
    for (const [name, target] of Object.entries(pkg.exports)) {
      const files = typeof target === 'string' ? [target] : [target.types, target.default];
      for (const file of files)
        expect(existsSync(new URL(file, pkgDir)), `${name} → ${file}`).toBe(true);
    }
  });

  it('defines nothing on import, and defines all three elements from ./define, twice harmlessly', async () => {
    const index = await import('../dist/index.js');
    expect(Object.keys(index)).toEqual(
      expect.arrayContaining([
        'JobwatchStatus',
        'JobwatchJob',
        'JobwatchJobs',
        'SnapshotController',
        'messagesFor',
      ]),
    );
    for (const tag of TAGS) expect(customElements.get(tag)).toBeUndefined();
    const define = await import('../dist/define.js');
    expect(TAGS.map((tag) => customElements.get(tag))).toEqual([
      index.JobwatchStatus,
      index.JobwatchJob,
      index.JobwatchJobs,
    ]);
    expect(() => define.defineElements()).not.toThrow();
  });

  it('leaves lit to the consumer in the npm build, and bundles everything in the single file', () => {
    expect(pkg.dependencies.lit).toBeDefined();
    expect(readFileSync(new URL('dist/status-element.js', pkgDir), 'utf8')).toMatch(/from 'lit'/);
    const single = readFileSync(new URL('dist/jobwatch-widget.js', pkgDir), 'utf8');
    expect(single).not.toMatch(BARE_IMPORT);
  });

  it('ships a Custom Elements Manifest describing the elements', () => {
    const manifest = JSON.parse(readFileSync(new URL(pkg.customElements, pkgDir), 'utf8')) as {
      modules: {
        declarations?: {
          tagName?: string;
          events?: { name: string }[];
          attributes?: { name: string }[];
        }[];
      }[];
    };
    const elements = manifest.modules.flatMap((m) => m.declarations ?? []).filter((d) => d.tagName);
    expect(elements.map((e) => e.tagName).sort()).toEqual([...TAGS].sort());
    const job = elements.find((e) => e.tagName === 'jobwatch-job')!;
    expect(job.events?.map((e) => e.name)).toEqual([
      'jobwatch-change',
      'jobwatch-end',
      'jobwatch-error',
    ]);
    expect(job.attributes?.map((a) => a.name)).toEqual(
      expect.arrayContaining(['job-id', 'daemon', 'admin-url']),
    );
  });
});
