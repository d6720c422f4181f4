import { readdirSync, readFileSync } from 'node:fs';

const dir = new URL('./fixtures/', import.meta.url);

/** The reference example bodies, by file name without `.json`. */
export const fixtureNames: readonly string[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

/** The raw text of a reference example. */
export function fixtureText(name: string): string {
  return readFileSync(new URL(`${name}.json`, dir), 'utf8');
}

/** A fresh parsed copy of a reference example (safe to mutate). */
export function fixture<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

/** A fresh parsed copy of the seed's completed `edit` job, loosely typed for mutation. */
// biome-ignore lint/suspicious/noExplicitAny: tests mutate the body freely to build bad cases.
export function completedJob(): any {
  return fixture('job-completed-edit');
}

/** A fresh parsed copy of an example body of a sister job source (`fixtures/sources/<name>.json`). */
// biome-ignore lint/suspicious/noExplicitAny: tests mutate the body freely to build bad cases.
export function sourceFixture(name: string): any {
  return JSON.parse(readFileSync(new URL(`sources/${name}.json`, dir), 'utf8'));
}
