/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

/** The main file's name, and the one direct mode's code is loaded from, beside it. */
const MAIN = 'jobwatch-widget.js';
const DIRECT = 'jobwatch-widget-direct.js';

/**
 * In the main file, `import('./direct.js')` (in `sources.ts`) becomes a load of the direct
 * file from beside it, at run time: the main file stays self-contained and small, and
 * direct mode costs only the pages that use it.
 */
const directModeFile: Plugin = {
  name: 'jobwatch-direct-mode-file',
  enforce: 'pre',
  resolveId(source, importer) {
    if (source === './direct.js' && importer?.endsWith('/src/sources.ts')) {
      return { id: `./${DIRECT}`, external: true };
    }
    return null;
  },
};

/**
 * The browser build, in two files for a plain `<script type="module">`, everything bundled
 * (lit included) and minified:
 * - `dist/jobwatch-widget.js` (`vite build`): the elements, the daemon's event stream and
 *   `source`; within the 30 KB (minified, gzipped) budget that `test/size.test.ts` checks;
 * - `dist/jobwatch-widget-direct.js` (`vite build --mode direct`): direct mode (the admin
 *   client, `@jobwatch/rx`'s watcher, the body validators), loaded by the first element that
 *   sets `admin-url`.
 * The npm build is `tsc`'s; all share `dist`. Tests drive real Chromium against the built
 * files.
 */
export default defineConfig(({ mode }) => {
  const direct = mode === 'direct';
  return {
    resolve: {
      // rxjs's ES2015 build (classes) rather than its default ES5 one (tslib helpers):
      // the same code, about 3 KB smaller gzipped.
      conditions: ['es2015', ...defaultClientConditions],
      alias: {
        eventsource: fileURLToPath(new URL('./build/eventsource-browser.js', import.meta.url)),
      },
    },
    plugins: direct ? [] : [directModeFile],
    build: {
      outDir: 'dist',
      emptyOutDir: false,
      target: 'es2022',
      minify: true,
      sourcemap: true,
      reportCompressedSize: false,
      lib: {
        entry: direct ? 'src/direct.ts' : 'src/bundle.ts',
        formats: ['es'],
        fileName: () => (direct ? DIRECT : MAIN),
      },
    },
    test: {
      include: ['test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
    },
  };
});
