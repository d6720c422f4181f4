// In the single-file (browser) build, the `eventsource` package (a polyfill for Node, which
// has no EventSource) is replaced by the browser's own.
export const EventSource = globalThis.EventSource;
