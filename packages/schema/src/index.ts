/**
 * `@jobwatch/schema`: TypeBox schemas, static types and compiled validators for every
 * body jobwatch reads or writes, and the one place where job statuses get their meaning.
 * No I/O; safe in browsers. Validators compile lazily on first use.
 *
 * @packageDocumentation
 */
export * from './bodies.js';
export * from './errors.js';
export * from './jobid.js';
export * from './operation.js';
export * from './service.js';
export * from './snapshot.js';
export * from './status.js';
export { describeSchema, describeValue, pointerToPath, validatorFor } from './validate.js';
