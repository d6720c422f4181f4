import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The campaign and the property tests each start processes and servers; on a 2-core
    // machine they run one file at a time so neither starves the other.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
