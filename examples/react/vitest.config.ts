import { defineConfig } from 'vitest/config';

// Only the tests: the app's own build is `vite.config.ts`.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
});
