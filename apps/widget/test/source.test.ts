/**
 * `<jobwatch-job>` and `<jobwatch-jobs>` fed through the `source` property in real
 * Chromium: live changes, events, subscription lifecycle, the list's order, filter and
 * keyboard, and the packaging guarantees of the single-file bundle.
 */
import type { Snapshot } from '@jobwatch/schema';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  bundlePage,
  launchBrowser,
  type PageServer,
  START,
  snapshotOf,
  startPageServer,
  type TestBrowser,
} from './harness.js';

/** A hand-made source in the page: any object with `subscribe` will do. */
const SOURCE_SCRIPT = `<script>
window.makeSource = () => {
  const observers = new Set();
  let subscriptions = 0;
  return {
    subscribe(observer) {
      observers.add(observer);
      subscriptions++;
      return { unsubscribe: () => observers.delete(observer) };
    },
    emit(...snapshots) { for (const s of snapshots) for (const o of [...observers]) o.next?.(s); },
    fail(message) { for (const o of [...observers]) o.error?.(new Error(message)); observers.clear(); },
    get observers() { return observers.size; },
    get subscriptions() { return subscriptions; },
  };
};
window.events = [];
for (const type of ['jobwatch-change', 'jobwatch-end'])
  document.addEventListener(type, (e) => window.events.push({ type, status: e.detail.status, jobid: e.detail.jobid,
    bubbles: e.bubbles, composed: e.composed, target: e.composedPath()[0].localName }));
window.problems = [];
document.addEventListener('jobwatch-error', (e) => window.problems.push({ ...e.detail,
  bubbles: e.bubbles, composed: e.composed, target: e.composedPath()[0].localName }));
</script>`;

let browser: TestBrowser;
let server: PageServer;
let page: Page;

beforeAll(async () => {
  server = await startPageServer({
    '/job': bundlePage(`${SOURCE_SCRIPT}<div id="host"></div>`),
    '/plain': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>plain</title></head><body>
<jobwatch-status id="plain"></jobwatch-status>
<script type="module" src="/jobwatch-widget.js"></script>
<script type="module">
  document.getElementById('plain').snapshot = ${JSON.stringify(snapshotOf('COMPLETED'))};
</script></body></html>`,
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

beforeEach(async () => {
  page = await browser.page();
  await page.goto(`${server.url}/job`);
  await page.waitForFunction(() => customElements.get('jobwatch-jobs') !== undefined);
});

afterEach(async () => {
  await page.close();
  expect(browser.errors.splice(0)).toEqual([]);
});

const JOB = 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d';
const OTHER = 'j63360063-b74e-46e8-8292-0126d6e08546';

/** Emits snapshots into the page's source and waits for the element to render them. */
async function emit(...snapshots: Snapshot[]): Promise<void> {
  await page.evaluate(async (snapshots) => {
    const w = window as unknown as { source: { emit(...s: unknown[]): void } };
    w.source.emit(...snapshots);
    const el = document
      .querySelector('#host')!
      .querySelector('jobwatch-job, jobwatch-jobs') as HTMLElement & {
      updateComplete: Promise<boolean>;
    };
    await el.updateComplete;
    await new Promise((r) => setTimeout(r, 0));
  }, snapshots);
}

async function mountJob(): Promise<void> {
  await page.evaluate((jobid) => {
    const w = window as unknown as { source: unknown; makeSource(): unknown };
    w.source = w.makeSource();
    const el = document.createElement('jobwatch-job') as HTMLElement & { source: unknown };
    el.setAttribute('job-id', jobid);
    el.source = w.source;
    document.getElementById('host')!.append(el);
  }, JOB);
}

const jobState = () =>
  page.evaluate(() => {
    const el = document.querySelector('jobwatch-job')!;
    const inner = el.shadowRoot!.querySelector('jobwatch-status')!;
    return {
      status: el.getAttribute('status'),
      label: inner.shadowRoot!.querySelector('.label')?.textContent ?? null,
      error: el.shadowRoot!.querySelector('[role="alert"]')?.textContent?.trim() ?? null,
      events: (window as unknown as { events: unknown[] }).events,
    };
  });

describe('<jobwatch-job> with a source', () => {
  it('renders a live change and reflects the status', async () => {
    await mountJob();
    await emit(snapshotOf('SUBMITTED'));
    expect(await jobState()).toMatchObject({ status: 'SUBMITTED', label: 'Submitted' });
    await emit(snapshotOf('EXECUTING'));
    expect(await jobState()).toMatchObject({ status: 'EXECUTING', label: 'Running' });
  });

  it('fires jobwatch-change for each change and jobwatch-end once, with the snapshot as detail', async () => {
    await mountJob();
    await emit(snapshotOf('EXECUTING'));
    await emit(snapshotOf('COMPLETED'));
    const { events } = await jobState();
    const common = { jobid: JOB, bubbles: true, composed: true, target: 'jobwatch-job' };
    expect(events).toEqual([
      { type: 'jobwatch-change', status: 'EXECUTING', ...common },
      { type: 'jobwatch-change', status: 'COMPLETED', ...common },
      { type: 'jobwatch-end', status: 'COMPLETED', ...common },
    ]);
  });

  it('reaches listeners outside a shadow root (composed)', async () => {
    const seen = await page.evaluate(async (s) => {
      const w = window as unknown as { makeSource(): { emit(x: unknown): void } };
      const source = w.makeSource();
      const wrapper = document.createElement('div');
      const shadow = wrapper.attachShadow({ mode: 'open' });
      const el = document.createElement('jobwatch-job') as HTMLElement & {
        source: unknown;
        updateComplete: Promise<boolean>;
      };
      el.source = source;
      el.setAttribute('job-id', s.jobid);
      shadow.append(el);
      document.body.append(wrapper);
      await el.updateComplete;
      const got = new Promise<unknown>((resolve) =>
        document.addEventListener('jobwatch-end', (e) => resolve((e as CustomEvent).detail), {
          once: true,
        }),
      );
      source.emit(s);
      return got;
    }, snapshotOf('FAILED'));
    expect(seen).toEqual(snapshotOf('FAILED'));
  });

  it('folds snapshots that arrive together into one render, keeping the last', async () => {
    await mountJob();
    await page.evaluate(() => {
      const el = document.querySelector('jobwatch-job') as unknown as { updated(): void };
      const w = window as unknown as { renders: number };
      w.renders = 0;
      const original = el.updated.bind(el);
      el.updated = () => {
        w.renders++;
        original();
      };
    });
    await emit(snapshotOf('SUBMITTED'), snapshotOf('EXECUTING'), snapshotOf('CANCELLING'));
    const { status, events } = await jobState();
    expect(status).toBe('CANCELLING');
    expect(events).toHaveLength(1);
    expect(await page.evaluate(() => (window as unknown as { renders: number }).renders)).toBe(1);
  });

  it("ignores other jobs' snapshots from a shared source", async () => {
    await mountJob();
    await emit(snapshotOf('EXECUTING'), snapshotOf('FAILED', {}, { jobid: OTHER }));
    expect(await jobState()).toMatchObject({ status: 'EXECUTING' });
  });

  it('subscribes while on the page only, and picks up where the source is on return', async () => {
    await mountJob();
    const count = () =>
      page.evaluate(
        () =>
          (window as unknown as { source: { observers: number; subscriptions: number } }).source,
      );
    expect(await count()).toMatchObject({ observers: 1, subscriptions: 1 });
    await page.evaluate(() => {
      const w = window as unknown as { removed: Element };
      w.removed = document.querySelector('jobwatch-job')!;
      w.removed.remove();
    });
    expect(await count()).toMatchObject({ observers: 0, subscriptions: 1 });
    await page.evaluate(() => {
      document.getElementById('host')!.append((window as unknown as { removed: Element }).removed);
    });
    expect(await count()).toMatchObject({ observers: 1, subscriptions: 2 });
    await emit(snapshotOf('COMPLETED'));
    expect(await jobState()).toMatchObject({ status: 'COMPLETED' });
  });

  it('swaps sources when the job id changes', async () => {
    await mountJob();
    await emit(snapshotOf('EXECUTING'));
    await page.evaluate(async (other) => {
      const el = document.querySelector('jobwatch-job') as HTMLElement & {
        updateComplete: Promise<boolean>;
      };
      el.setAttribute('job-id', other);
      await el.updateComplete;
    }, OTHER);
    // Nothing of the other job yet: pending, as from the start.
    expect(await jobState()).toMatchObject({ status: 'pending', label: null });
    await emit(snapshotOf('COMPLETED', {}, { jobid: OTHER }));
    expect(await jobState()).toMatchObject({ status: 'COMPLETED' });
  });

  it("passes <jobwatch-status>'s parts and the theme through", async () => {
    await mountJob();
    await emit(snapshotOf('COMPLETED'));
    const styled = await page.evaluate(async () => {
      const style = document.createElement('style');
      style.textContent = 'jobwatch-job::part(status) { font-style: italic; }';
      document.head.append(style);
      const el = document.querySelector('jobwatch-job') as HTMLElement & {
        updateComplete: Promise<boolean>;
      };
      el.setAttribute('theme', 'dark');
      await el.updateComplete;
      const inner = el.shadowRoot!.querySelector('jobwatch-status') as HTMLElement & {
        updateComplete: Promise<boolean>;
      };
      await inner.updateComplete;
      return {
        font: getComputedStyle(inner.shadowRoot!.querySelector('.status')!).fontStyle,
        bg: getComputedStyle(inner.shadowRoot!.querySelector('.card')!).backgroundColor,
      };
    });
    expect(styled).toEqual({ font: 'italic', bg: 'rgb(13, 17, 23)' });
  });

  it('says why watching stopped when the source fails', async () => {
    await mountJob();
    await emit(snapshotOf('EXECUTING'));
    await page.evaluate(async () => {
      (window as unknown as { source: { fail(m: string): void } }).source.fail(
        'Job j2bc… was not found (JOB_NOT_FOUND)',
      );
      await (
        document.querySelector('jobwatch-job') as HTMLElement & { updateComplete: Promise<boolean> }
      ).updateComplete;
    });
    const message = 'Stopped watching: Job j2bc… was not found (JOB_NOT_FOUND)';
    expect(await jobState()).toMatchObject({ status: 'EXECUTING', error: message });
    // The page hears it too, once, with what the element shows.
    expect(
      await page.evaluate(() => (window as unknown as { problems: unknown[] }).problems),
    ).toEqual([
      {
        code: 'ERROR',
        message,
        final: true,
        bubbles: true,
        composed: true,
        target: 'jobwatch-job',
      },
    ]);
  });

  it('reflects status="pending" from the start, before any snapshot', async () => {
    await mountJob();
    await page.evaluate(
      () =>
        (
          document.querySelector('jobwatch-job') as HTMLElement & {
            updateComplete: Promise<boolean>;
          }
        ).updateComplete,
    );
    expect(await jobState()).toMatchObject({ status: 'pending', label: null });
    const card = await page.evaluate(
      () =>
        document
          .querySelector('jobwatch-job')
          ?.shadowRoot?.querySelector('jobwatch-status')
          ?.shadowRoot?.textContent?.trim() ?? '',
    );
    expect(card).toBe('Waiting for first status');
    expect(
      await page.evaluate(() => (window as unknown as { problems: unknown[] }).problems),
    ).toEqual([]);
  });
});

describe('<jobwatch-jobs> with a source', () => {
  const jobs = [
    snapshotOf('EXECUTING', {}, { jobid: 'j1', lastChanged: START + 1_000 }),
    snapshotOf('COMPLETED', {}, { jobid: 'j2', lastChanged: START + 3_000 }),
    snapshotOf('FAILED', {}, { jobid: 'j3', lastChanged: START + 2_000 }),
    snapshotOf('CANCELLED', {}, { jobid: 'j4', lastChanged: START + 500 }),
  ];

  async function mountList(): Promise<void> {
    await page.evaluate(() => {
      const w = window as unknown as { source: unknown; makeSource(): unknown };
      w.source = w.makeSource();
      const el = document.createElement('jobwatch-jobs') as HTMLElement & { source: unknown };
      el.source = w.source;
      document.getElementById('host')!.append(el);
    });
  }

  const rows = () =>
    page.evaluate(() =>
      [...document.querySelector('jobwatch-jobs')!.shadowRoot!.querySelectorAll('li')].map(
        (li) => li.dataset.key,
      ),
    );

  it('lists every job, newest change first, and moves a job up when it changes', async () => {
    await mountList();
    await emit(...jobs);
    expect(await rows()).toEqual(['default/j2', 'default/j3', 'default/j1', 'default/j4']);
    await emit(snapshotOf('COMPLETED', {}, { jobid: 'j1', lastChanged: START + 9_000 }));
    expect(await rows()).toEqual(['default/j1', 'default/j2', 'default/j3', 'default/j4']);
  });

  it('filters by outcome with pressed-state buttons', async () => {
    await mountList();
    await emit(...jobs);
    const pick = (filter: string) =>
      page.evaluate(async (filter) => {
        const el = document.querySelector('jobwatch-jobs') as HTMLElement & {
          updateComplete: Promise<boolean>;
        };
        el.shadowRoot!.querySelector<HTMLButtonElement>(`button[data-filter="${filter}"]`)!.click();
        await el.updateComplete;
        return {
          pressed: [...el.shadowRoot!.querySelectorAll('button[aria-pressed="true"]')].map((b) =>
            b.getAttribute('data-filter'),
          ),
          count: el.shadowRoot!.querySelector('.count')!.textContent,
          attr: el.getAttribute('filter'),
        };
      }, filter);
    expect(await pick('failed')).toEqual({ pressed: ['failed'], count: '1 jobs', attr: 'failed' });
    expect(await rows()).toEqual(['default/j3']);
    await pick('running');
    expect(await rows()).toEqual(['default/j1']);
    await pick('succeeded');
    expect(await rows()).toEqual(['default/j2']);
    await pick('cancelled');
    expect(await rows()).toEqual(['default/j4']);
    expect(await pick('all')).toMatchObject({ count: '4 jobs' });
  });

  it('says so when nothing matches', async () => {
    await mountList();
    await emit(jobs[0]!);
    await page.evaluate(async () => {
      const el = document.querySelector('jobwatch-jobs') as HTMLElement & {
        updateComplete: Promise<boolean>;
      };
      el.setAttribute('filter', 'failed');
      await el.updateComplete;
    });
    const empty = await page.evaluate(
      () =>
        document.querySelector('jobwatch-jobs')!.shadowRoot!.querySelector('[part="empty"]')
          ?.textContent,
    );
    expect(empty).toBe('No jobs to show');
  });

  it('is keyboard-navigable: one tab stop, arrows, Home, End, and Enter opens the details', async () => {
    await mountList();
    await emit(...jobs);
    const focused = () =>
      page.evaluate(() => {
        const root = document.querySelector('jobwatch-jobs')!.shadowRoot!;
        return (root.activeElement?.closest('li') as HTMLElement | null)?.dataset.key ?? null;
      });
    const tabStops = await page.evaluate(
      () =>
        document
          .querySelector('jobwatch-jobs')!
          .shadowRoot!.querySelectorAll('summary[tabindex="0"]').length,
    );
    expect(tabStops).toBe(1);
    await page.focus('jobwatch-jobs summary[tabindex="0"]');
    expect(await focused()).toBe('default/j2');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('default/j3');
    await page.keyboard.press('End');
    expect(await focused()).toBe('default/j4');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('default/j4');
    await page.keyboard.press('Home');
    expect(await focused()).toBe('default/j2');
    await page.keyboard.press('ArrowUp');
    expect(await focused()).toBe('default/j2');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () =>
        document
          .querySelector('jobwatch-jobs')!
          .shadowRoot!.querySelector('li[data-key="default/j3"] jobwatch-status[detail]')
          ?.shadowRoot?.querySelector('[part="details"]') != null,
    );
    const details = await page.evaluate(async () => {
      const el = document.querySelector('jobwatch-jobs') as HTMLElement & {
        updateComplete: Promise<boolean>;
      };
      await el.updateComplete;
      const li = el.shadowRoot!.querySelector('li[data-key="default/j3"]')!;
      const detail = li.querySelector('jobwatch-status[detail]') as
        | (HTMLElement & { updateComplete: Promise<boolean> })
        | null;
      await detail?.updateComplete;
      return {
        open: li.querySelector('details')!.open,
        text: detail?.shadowRoot
          ?.querySelector('[part="details"]')
          ?.textContent?.replace(/\s+/g, ' ')
          .trim(),
      };
    });
    expect(details.open).toBe(true);
    expect(details.text).toContain('serviceAdmin');
    // Focus stays on the row after a re-render caused by a new snapshot.
    await emit(
      snapshotOf('FAILED', { updatedtime: START + 7 }, { jobid: 'j3', lastChanged: START + 2_000 }),
    );
    expect(await focused()).toBe('default/j3');
  });

  it('announces jobs that end while watched, not jobs that had ended before', async () => {
    await mountList();
    await emit(...jobs);
    const announced = () =>
      page.evaluate(
        () =>
          document.querySelector('jobwatch-jobs')!.shadowRoot!.querySelector('[role="status"]')!
            .textContent,
      );
    expect(await announced()).toBe('');
    await emit(
      snapshotOf('FAILED', { messages: ['x'] }, { jobid: 'j1', lastChanged: START + 9_000 }),
    );
    expect(await announced()).toBe('Job FireWeatherWatch ended: Failed after 3m 5s');
  });

  it('keeps at most `limit` jobs, dropping long-ended ones first', async () => {
    await mountList();
    await page.evaluate(() => document.querySelector('jobwatch-jobs')!.setAttribute('limit', '2'));
    await emit(...jobs);
    expect(await rows()).toEqual(['default/j2', 'default/j1']);
  });

  it('fires events for each job that changes', async () => {
    await mountList();
    await emit(...jobs);
    const events = await page.evaluate(
      () => (window as unknown as { events: { type: string }[] }).events,
    );
    expect(events.filter((e) => e.type === 'jobwatch-change')).toHaveLength(4);
    expect(events.filter((e) => e.type === 'jobwatch-end')).toHaveLength(3);
  });
});

describe('the single-file bundle', () => {
  it('works from a plain HTML page, fetching nothing but itself', async () => {
    const before = server.requests.length;
    await page.goto(`${server.url}/plain`);
    const label = await page.waitForFunction(
      () => document.getElementById('plain')?.shadowRoot?.querySelector('.label')?.textContent,
    );
    expect(await label.jsonValue()).toBe('Completed');
    const fetched = server.requests.slice(before).filter((p) => p !== '/favicon.ico');
    expect(fetched).toEqual(['/plain', '/jobwatch-widget.js']);
  });

  it('can be loaded twice, and defining again is harmless', async () => {
    const result = await page.evaluate(async () => {
      // A second copy of the file (another URL, so another module instance).
      const load = new Function('url', 'return import(url)') as (url: string) => Promise<unknown>;
      const again = (await load('/jobwatch-widget.js?again')) as {
        defineElements(): void;
        JobwatchStatus: unknown;
      };
      again.defineElements();
      return {
        sameClass: customElements.get('jobwatch-status') !== again.JobwatchStatus,
        defined: ['jobwatch-status', 'jobwatch-job', 'jobwatch-jobs'].every((n) =>
          customElements.get(n),
        ),
      };
    });
    expect(result).toEqual({ sameClass: true, defined: true });
  });
});
