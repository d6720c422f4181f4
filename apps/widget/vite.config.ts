/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The single-file build: `dist/jobwatch-widget.js`, everything bundled (lit included) and
 * minified, for a plain `<script type="module">`. The npm build is `tsc`'s; both share `dist`.
 * Tests drive real Chromium against the built files.
 */
export default defineConfig({
  resolve: {
    alias: {
      eventsource: fileURLToPath(new URL('./build/eventsource-browser.js', import.meta.url)),
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    minify: true,
    sourcemap: true,
    reportCompressedSize: false,
    lib: {
      entry: 'src/bundle.ts',
      formats: ['es'],
      fileName: () => 'jobwatch-widget.js',
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
