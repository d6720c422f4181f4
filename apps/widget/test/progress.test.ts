/**
 * Progress, steps and result links in real Chromium, from the single-file bundle: the bar
 * and its accessible name and value, milestone-only announcements, the step text, and
 * result links that open only `http:`/`https:` URLs.
 */
import type { Snapshot } from '@jobwatch/schema';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SourceFields } from '../src/view.js';
import {
  bundlePage,
  launchBrowser,
  type PageServer,
  START,
  snapshotOf,
  startPageServer,
  type TestBrowser,
} from './harness.js';

let browser: TestBrowser;
let server: PageServer;
let page: Page;

beforeAll(async () => {
  server = await startPageServer({
    '/': bundlePage('<jobwatch-status id="s"></jobwatch-status>'),
    '/de': bundlePage('<jobwatch-status id="s"></jobwatch-status>', 'de-DE'),
  });
  browser = await launchBrowser();
  page = await browser.page();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

afterEach(() => {
  expect(browser.errors.splice(0)).toEqual([]);
});

async function open(path = '/'): Promise<void> {
  await page.goto(`${server.url}${path}`);
  await page.waitForFunction(() => customElements.get('jobwatch-status') !== undefined);
  // Record every text the live region takes, in order.
  await page.evaluate(async () => {
    const el = document.getElementById('s') as HTMLElement & { updateComplete: Promise<boolean> };
    await el.updateComplete;
    const w = window as unknown as { said: string[] };
    w.said = [];
    new MutationObserver(() => {
      const text = el.shadowRoot?.querySelector('[role="status"]')?.textContent?.trim() ?? '';
      if (text && text !== w.said.at(-1)) w.said.push(text);
    }).observe(el.shadowRoot!, { subtree: true, childList: true, characterData: true });
  });
}

type Shown = Snapshot & SourceFields;

/** A running ArcGIS Server admin job's snapshot with progress and a step. */
function running(progress: number | null, step?: SourceFields['step']): Shown {
  return { ...snapshotOf('EXECUTING'), progress, ...(step ? { step } : {}) };
}

/** Shows a snapshot and reads back what a person and a screen reader get. */
async function show(snapshot: Shown) {
  return page.evaluate(
    async ({ snapshot, now }) => {
      const el = document.getElementById('s') as HTMLElement & {
        snapshot: unknown;
        now: () => number;
        updateComplete: Promise<boolean>;
      };
      el.now = () => now;
      el.snapshot = snapshot;
      await el.updateComplete;
      const root = el.shadowRoot!;
      const bar = root.querySelector('progress');
      const text = (sel: string) =>
        // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person sees
        (root.querySelector(sel) as HTMLElement | null)?.innerText?.replace(/\s+/g, ' ').trim() ??
        null;
      return {
        bar: bar
          ? {
              value: bar.value,
              max: bar.max,
              label: bar.getAttribute('aria-label'),
              valuetext: bar.getAttribute('aria-valuetext'),
              part: bar.getAttribute('part'),
            }
          : null,
        progress: text('[part~="progress"]'),
        step: text('[part~="step"]'),
        results: text('[part~="results"]'),
        links: [...root.querySelectorAll('a')].map((a) => ({
          text: a.textContent?.trim(),
          href: a.getAttribute('href'),
          target: a.getAttribute('target'),
          rel: a.getAttribute('rel'),
          part: a.getAttribute('part'),
        })),
        card: root.querySelector('[part~="card"]')?.outerHTML ?? '',
        said: [...(window as unknown as { said: string[] }).said],
      };
    },
    { snapshot, now: START + 65_000 },
  );
}

describe('a job with progress', () => {
  beforeEach(() => open());

  it('renders a labelled progress bar with its value and the current step', async () => {
    const seen = await show(
      running(0.4, { text: 'Saving edits to the configuration store', index: 2, total: 3 }),
    );
    expect(seen.bar).toEqual({
      value: 40,
      max: 100,
      label: 'Progress',
      valuetext: '40% · Step 2 of 3: Saving edits to the configuration store',
      part: 'progress-bar',
    });
    expect(seen.progress).toContain('40%');
    expect(seen.step).toBe('Step 2 of 3: Saving edits to the configuration store');
    // Chromium exposes it as a progress bar with that name.
    expect(await page.getByRole('progressbar', { name: 'Progress' }).count()).toBe(1);
  });

  it('announces progress at 25, 50, 75 and 100 % only, not on every poll', async () => {
    const said: string[] = [];
    for (const p of [0, 0.1, 0.2, 0.24, 0.26, 0.3, 0.3, 0.49, 0.5, 0.6, 0.74, 0.8, 0.9, 0.99, 1])
      said.splice(0, said.length, ...(await show(running(p))).said);
    expect(said).toEqual([
      'Job FireWeatherWatch: Running',
      'Job FireWeatherWatch: 25% done',
      'Job FireWeatherWatch: 50% done',
      'Job FireWeatherWatch: 75% done',
      'Job FireWeatherWatch: 100% done',
    ]);
    // A jump past two milestones says the last one once; going back says nothing.
    await open();
    await show(running(0.1));
    await show(running(0.8));
    const after = await show(running(0.6));
    expect(after.said).toEqual(['Job FireWeatherWatch: Running', 'Job FireWeatherWatch: 75% done']);
  });

  it('shows a step without a count, and a step without progress, with no bar', async () => {
    const textOnly = await show(running(0.5, { text: 'Buffering the features' }));
    expect(textOnly.step).toBe('Buffering the features');
    const noBar = await show(running(null, { text: 'Aggregating the incidents' }));
    expect(noBar.bar).toBeNull();
    expect(noBar.step).toBe('Aggregating the incidents');
  });

  it('drops the bar once the job has ended', async () => {
    const ended = await show({ ...snapshotOf('COMPLETED'), progress: 1 });
    expect(ended.bar).toBeNull();
  });

  it('speaks the page language', async () => {
    await open('/de');
    const seen = await show(running(0.5, { index: 1, total: 4 }));
    expect(seen.bar?.label).toBe('Fortschritt');
    expect(seen.step).toBe('Schritt 1 von 4');
    expect(seen.said.at(-1)).toMatch(/^Job FireWeatherWatch: /);
  });
});

describe('a job without progress looks as it always did', () => {
  beforeEach(() => open());

  it('has no progress row, bar, step or results, and the same markup with progress: null', async () => {
    const plain = await show(snapshotOf('EXECUTING'));
    expect(plain.bar).toBeNull();
    expect(plain.progress).toBeNull();
    expect(plain.step).toBeNull();
    expect(plain.results).toBeNull();
    const withNull = await show({ ...snapshotOf('EXECUTING'), progress: null });
    expect(withNull.card).toBe(plain.card);
  });
});

describe('geoprocessing result links', () => {
  beforeEach(() => open());
  const task =
    'https://gis.example.com/server/rest/services/Tools/Buffer/GPServer/BufferPoints/jobs/j0123456789abcdef0123456789abcdef';

  it('links each result of a succeeded job, opening in a new tab without the opener', async () => {
    const seen = await show({
      ...snapshotOf('COMPLETED'),
      results: [
        { name: 'Output_Features', url: `${task}/results/Output_Features` },
        { name: 'Report', url: 'http://files.example.com/report.pdf' },
      ],
    });
    expect(seen.results).toContain('Results');
    expect(seen.links).toEqual([
      {
        text: 'Output_Features',
        href: `${task}/results/Output_Features`,
        target: '_blank',
        rel: 'noopener noreferrer',
        part: 'result-link',
      },
      {
        text: 'Report',
        href: 'http://files.example.com/report.pdf',
        target: '_blank',
        rel: 'noopener noreferrer',
        part: 'result-link',
      },
    ]);
  });

  it('never links a hostile or relative URL: javascript:, data:, vbscript:, relative', async () => {
    const seen = await show({
      ...snapshotOf('COMPLETED'),
      results: [
        { name: 'Evil', url: 'javascript:alert(document.domain)' },
        { name: 'Sneaky', url: ' JaVaScRiPt:alert(1)' },
        { name: 'Data', url: 'data:text/html,<script>alert(1)</script>' },
        { name: 'Old', url: 'vbscript:msgbox(1)' },
        { name: 'Relative', url: '/results/x' },
        { name: 'Good', url: `${task}/results/Output_Features` },
      ],
    });
    expect(seen.links.map((l) => l.text)).toEqual(['Good']);
    expect(seen.results).toContain('Evil');
    expect(seen.results).toContain('Relative');
    const anyScript = await page.evaluate(() =>
      [...document.getElementById('s')!.shadowRoot!.querySelectorAll('[href]')].some((a) =>
        /^\s*(javascript|data|vbscript):/i.test(a.getAttribute('href') ?? ''),
      ),
    );
    expect(anyScript).toBe(false);
  });

  it('shows no results for a job that did not succeed', async () => {
    const seen = await show({
      ...snapshotOf('FAILED'),
      results: [{ name: 'Output_Features', url: `${task}/results/Output_Features` }],
    });
    expect(seen.results).toBeNull();
    expect(seen.links).toEqual([]);
  });
});
