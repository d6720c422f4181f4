/**
 * jobwatch benchmarks: the harness types and helpers that benchmark files use.
 *
 * @packageDocumentation
 */
export * from './harness.js';
