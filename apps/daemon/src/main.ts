#!/usr/bin/env node
import { runCli } from './cli/program.js';

const controller = new AbortController();
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) process.exit(130);
    controller.abort(signal);
  });
}
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  interrupt: controller.signal,
});
process.exitCode = code;
// Whatever still holds the event loop open (a keep-alive socket) must not keep us here.
setTimeout(() => process.exit(code), 1000).unref();
