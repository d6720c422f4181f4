/**
 * Helpers for jobwatch's whole-stack tests: the built daemon as a process, a raw event-stream
 * reader, a Standard Webhooks receiver, a token-recording proxy, seeded randomness, condition
 * waits, and for pages a Chromium and a local page server. Not published; the examples'
 * tests use them too.
 *
 * @packageDocumentation
 */
export * from './browser.js';
export * from './daemon.js';
export * from './pages.js';
export * from './random.js';
export * from './serve.js';
export * from './sse.js';
export * from './token-proxy.js';
export * from './wait.js';
export * from './webhooks.js';
