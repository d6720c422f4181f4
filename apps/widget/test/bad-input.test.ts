/**
 * Bad input, case by case: the elements say what is wrong (or fall back to something sane)
 * and never throw into the page.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  bundlePage,
  launchBrowser,
  type PageServer,
  snapshotOf,
  startPageServer,
  type TestBrowser,
} from './harness.js';

let browser: TestBrowser;
let server: PageServer;
let page: Page;
const requests: string[] = [];

beforeAll(async () => {
  server = await startPageServer({
    '/': bundlePage('<div id="host"></div>'),
    '/arcgis/*': (req, res) => {
      requests.push(req.url ?? '');
      res.writeHead(500).end();
    },
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

beforeEach(async () => {
  page = await browser.page();
  await page.goto(server.url);
  await page.waitForFunction(() => customElements.get('jobwatch-job') !== undefined);
});

afterEach(async () => {
  await page.close();
  expect(browser.errors.splice(0)).toEqual([]);
});

/** Mounts `<jobwatch-job>` with attributes and a token provider; returns what it says. */
async function mountJob(attributes: Record<string, string>): Promise<string | null> {
  await page.evaluate((attributes) => {
    const el = document.createElement('jobwatch-job') as unknown as HTMLElement & {
      tokenProvider: () => string;
      ticketProvider: () => Promise<string>;
    };
    for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
    el.tokenProvider = () => 'SECRET-TOKEN-123';
    el.ticketProvider = async () => 'SECRET-TICKET-456';
    document.getElementById('host')!.append(el);
  }, attributes);
  const alert = await page.waitForFunction(
    () =>
      document.querySelector('jobwatch-job')?.shadowRoot?.querySelector('[role="alert"]')
        ?.textContent,
    undefined,
    { timeout: 10_000 },
  );
  return (await alert.jsonValue()) as string;
}

describe('a live element with bad settings says why it stopped', () => {
  it('an admin URL that is not a URL', async () => {
    const said = await mountJob({
      'admin-url': 'not a url',
      'job-id': 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d',
    });
    expect(said).toMatch(/^Stopped watching: /);
    expect(said).not.toContain('SECRET');
  });

  it('a job id that could change a URL, refused before any request', async () => {
    const before = requests.length;
    const said = await mountJob({
      'admin-url': `${server.url}/arcgis/admin`,
      'job-id': '../../services',
    });
    expect(said).toMatch(/^Stopped watching: .*job id/i);
    expect(requests.length).toBe(before);
  });

  it('a daemon URL that is not a URL', async () => {
    const said = await mountJob({
      daemon: 'http://[not',
      'job-id': 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d',
    });
    expect(said).toMatch(/^Stopped watching: /);
    expect(said).not.toContain('SECRET');
  });
});

describe('display input that is not what it should be', () => {
  it('a snapshot that is not an object shows nothing-yet instead of throwing', async () => {
    const shown = await page.evaluate(async () => {
      const el = document.createElement('jobwatch-status') as HTMLElement & {
        snapshot: unknown;
        updateComplete: Promise<boolean>;
      };
      document.getElementById('host')!.append(el);
      const out: (string | null | undefined)[] = [];
      for (const bad of ['COMPLETED', 42, null, [], { jobid: 'j1' }]) {
        el.snapshot = bad;
        await el.updateComplete;
        out.push(el.shadowRoot!.querySelector('.card')?.textContent?.trim());
      }
      return out;
    });
    expect(shown.slice(0, 4)).toEqual([
      'No job to show',
      'No job to show',
      'No job to show',
      'No job to show',
    ]);
    // An object without a status is a job whose first status has not come yet.
    expect(shown[4]).toContain('Waiting for first status');
  });

  it('a source that sends things that are not snapshots: they are skipped, the rest shown', async () => {
    const state = await page.evaluate(async (s) => {
      const el = document.createElement('jobwatch-jobs') as HTMLElement & {
        source: unknown;
        updateComplete: Promise<boolean>;
      };
      el.source = {
        subscribe: (o: { next(x: unknown): void }) => {
          for (const value of [null, 'EXECUTING', 7, [s], { status: 'FAILED' }, s]) o.next(value);
          return { unsubscribe() {} };
        },
      };
      document.getElementById('host')!.append(el);
      await el.updateComplete;
      return [...el.shadowRoot!.querySelectorAll('li')].map((li) => li.dataset.key);
    }, snapshotOf('EXECUTING'));
    expect(state).toEqual(['default/j2bcbcd49-83a4-4cc1-a034-40e4a266e96d']);
  });

  it('an unknown filter shows every job; a limit that is not a number keeps the default', async () => {
    const state = await page.evaluate(async (s) => {
      const el = document.createElement('jobwatch-jobs') as HTMLElement & {
        source: unknown;
        updateComplete: Promise<boolean>;
      };
      el.setAttribute('filter', 'bogus');
      el.setAttribute('limit', 'many');
      el.source = {
        subscribe: (o: { next(x: unknown): void }) => {
          o.next(s);
          return { unsubscribe() {} };
        },
      };
      document.getElementById('host')!.append(el);
      await el.updateComplete;
      return {
        rows: el.shadowRoot!.querySelectorAll('li').length,
        count: el.shadowRoot!.querySelector('.count')?.textContent,
      };
    }, snapshotOf('EXECUTING'));
    expect(state).toEqual({ rows: 1, count: '1 jobs' });
  });
});
