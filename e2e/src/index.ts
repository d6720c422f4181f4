/**
 * Helpers for jobwatch's whole-stack tests: the built daemon as a process, a raw event-stream
 * reader, a Standard Webhooks receiver, a token-recording proxy, seeded randomness and
 * condition waits. Not published.
 *
 * @packageDocumentation
 */
export * from './daemon.js';
export * from './random.js';
export * from './sse.js';
export * from './token-proxy.js';
export * from './wait.js';
export * from './webhooks.js';
