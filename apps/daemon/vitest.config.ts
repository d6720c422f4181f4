import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Process-level tests start the built CLI and wait for polls: give them room, not wall-clock asserts.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
