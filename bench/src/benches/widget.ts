/**
 * Issue 7: the widget's single-file bundle size, and what rendering costs in real Chromium.
 *
 * - size: `apps/widget/dist/jobwatch-widget.js` minified and gzipped (budget 30 KB);
 * - first render of `<jobwatch-jobs>` given N jobs at once (list plus every row's card);
 * - one job changing in a list of N: the median time from the snapshot to the rendered row.
 *
 * Runs against the widget's build; Chromium is Debian's (`CHROMIUM_PATH` overrides), driven
 * by `@jobwatch/test-utils`.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { launchChromium } from '@jobwatch/test-utils';
import { type Benchmark, percentile, row } from '../harness.js';

const widget = new URL('../../../apps/widget/', import.meta.url);

/**
 * Runs in the page (plain JavaScript, so nothing of this process's tooling leaks into it):
 * feeds `jobs` snapshots to a `<jobwatch-jobs>` through its `source`, then changes one job
 * at a time, timing each until the list and its rows have rendered.
 */
const PAGE_SCRIPT = `
window.runBench = async ({ jobs, changes }) => {
  await customElements.whenDefined('jobwatch-jobs');
  const observers = new Set();
  const source = { subscribe(o) { observers.add(o); return { unsubscribe: () => observers.delete(o) }; } };
  const t0 = Date.UTC(2026, 0, 1);
  const snap = (i, status, changed) => ({
    version: 1, deployment: 'default', jobid: 'j' + i, status,
    kind: status === 'EXECUTING' ? 'passing' : 'terminal',
    outcome: status === 'EXECUTING' ? 'none' : 'succeeded',
    terminal: status !== 'EXECUTING',
    job: { jobid: 'j' + i, status, starttime: t0 + i, endtime: status === 'EXECUTING' ? 0 : changed,
      updatedtime: changed, operationURI: '/arcgis/admin/services/Service' + i + '.MapServer/edit', username: 'admin' },
    firstSeen: t0, lastPolled: changed, lastChanged: changed, stale: false,
  });
  const settle = async (el) => {
    await el.updateComplete;
    await Promise.all([...el.shadowRoot.querySelectorAll('jobwatch-status')].map((s) => s.updateComplete));
  };
  const el = document.createElement('jobwatch-jobs');
  el.limit = jobs;
  el.source = source;
  document.body.append(el);
  await el.updateComplete;
  const start = performance.now();
  for (let i = 0; i < jobs; i++) for (const o of observers) o.next(snap(i, 'EXECUTING', t0 + i));
  await settle(el);
  const firstRender = performance.now() - start;
  const perChange = [];
  for (let c = 0; c < changes; c++) {
    const i = (c * 7919) % jobs;
    const t = performance.now();
    for (const o of observers) o.next(snap(i, c % 2 ? 'EXECUTING' : 'COMPLETED', t0 + jobs + c));
    await settle(el);
    perChange.push(performance.now() - t);
  }
  return { firstRender, perChange };
};`;

const bench: Benchmark = {
  name: 'widget',
  issue: 7,
  async run({ full }) {
    const bundle = readFileSync(new URL('dist/jobwatch-widget.js', widget));
    const gzipKb = gzipSync(bundle, { level: 9 }).length / 1024;
    const jobs = full ? 2_000 : 500;
    const changes = full ? 200 : 60;

    const chromium = await launchChromium();
    try {
      const page = await chromium.page();
      await page.route('http://bench.local/**', (route) =>
        route.fulfill(
          route.request().url().endsWith('.js')
            ? { contentType: 'text/javascript', body: bundle }
            : {
                contentType: 'text/html',
                body: '<!doctype html><html lang="en"><body><script type="module" src="/jobwatch-widget.js"></script></body></html>',
              },
        ),
      );
      await page.goto('http://bench.local/');
      await page.addScriptTag({ content: PAGE_SCRIPT });
      const result = (await page.evaluate(`runBench(${JSON.stringify({ jobs, changes })})`)) as {
        firstRender: number;
        perChange: number[];
      };
      return [
        row('widget', 'single file, minified + gzipped', gzipKb, 'KB', { atMost: 30 }),
        row('widget', `first render of ${jobs} jobs`, result.firstRender, 'ms'),
        row(
          'widget',
          `one change in a list of ${jobs}, p50`,
          percentile(result.perChange, 50),
          'ms',
        ),
        row(
          'widget',
          `one change in a list of ${jobs}, p95`,
          percentile(result.perChange, 95),
          'ms',
          {
            atMost: 50,
          },
        ),
      ];
    } finally {
      await chromium.close();
    }
  },
};

export default bench;
