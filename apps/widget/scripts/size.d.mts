/** The budget of `dist/jobwatch-widget.js`, minified and gzipped (issue 7). */
export declare const BUDGET: number;
/** A built file's size, minified (as built) and gzipped at level 9, in bytes. */
export declare function measure(name?: string): { minified: number; gzipped: number };
/** The files the source map of a built file names, as written there. */
export declare function sourcesOf(name?: string): string[];
/** Minified bytes of a built file by the package they come from, largest first. */
export declare function breakdown(name?: string): [string, number][];
