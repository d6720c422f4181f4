/**
 * Helpers for jobwatch's whole-stack tests: a raw event-stream reader, a Standard Webhooks
 * receiver, a token-recording proxy, condition waits and a local page server. Chromium, the
 * daemon as a process and seeded randomness come from `@jobwatch/test-utils`. Not published;
 * the examples' tests use them too.
 *
 * @packageDocumentation
 */
export * from './pages.js';
export * from './sse.js';
export * from './token-proxy.js';
export * from './wait.js';
export * from './webhooks.js';
