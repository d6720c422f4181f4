/**
 * Direct mode: the page holds a token and the widget polls the admin API itself through
 * `@jobwatch/rx`. Most tests reach the simulator through the page server, which passes
 * `/arcgis/*` through on the page's own origin, as a reverse proxy in front of a real
 * deployment would; one calls it cross-origin, which its CORS headers (any origin, by
 * default) allow.
 */
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bundlePage,
  CSP_PROBE,
  cspPage,
  launchBrowser,
  type PageServer,
  proxyTo,
  startPageServer,
  type TestBrowser,
  until,
} from './harness.js';

let sim: Simulator;
let server: PageServer;
let browser: TestBrowser;
let page: Page;
const seen: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 11 });
  server = await startPageServer({
    '/': bundlePage('<div id="host"></div>'),
    '/arcgis/*': proxyTo(sim.url, seen),
    '/csp': cspPage('<div id="host"></div>'),
    '/csp-probe.js': CSP_PROBE,
  });
  browser = await launchBrowser();
  page = await browser.page();
  await page.goto(server.url);
  await page.waitForFunction(() => customElements.get('jobwatch-job') !== undefined);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await sim?.close();
});

afterEach(() => {
  expect(browser.errors.splice(0)).toEqual([]);
});

describe('direct mode', () => {
  it("polls the admin API with the page's token, in a header, and shows the job end to end", async () => {
    const token = sim.issueToken();
    const jobid = sim.createJob({
      outcome: 'COMPLETED',
      durationMs: 5_000,
      operation: '/arcgis/admin/services/Parcels.MapServer/start',
    });
    await page.evaluate(
      ({ jobid, token, adminUrl }) => {
        const w = window as unknown as { asked: number };
        w.asked = 0;
        const el = document.createElement('jobwatch-job') as unknown as HTMLElement & {
          tokenProvider: () => Promise<string>;
        };
        el.setAttribute('admin-url', adminUrl);
        el.setAttribute('job-id', jobid);
        el.tokenProvider = async () => {
          w.asked++;
          return token;
        };
        document.getElementById('host')!.append(el);
      },
      { jobid, token, adminUrl: `${server.url}/arcgis/admin` },
    );
    const status = () =>
      page.evaluate(() => document.querySelector('jobwatch-job')?.getAttribute('status') ?? null);
    await until(status, 'SUBMITTED', 'before the end');
    sim.advance(6_000);
    await until(status, 'COMPLETED', 'after the end');
    expect(
      await page.evaluate(() => (window as unknown as { asked: number }).asked),
    ).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThan(0);
    for (const url of seen) expect(url).not.toContain(token);
    expect(sim.stats().byJob[jobid]).toBeGreaterThan(0);
  });

  it('shares one poll loop between two widgets of the same job', async () => {
    const token = sim.issueToken();
    const jobid = sim.createJob({ outcome: 'FAILED', durationMs: 5_000 });
    await page.evaluate(
      ({ jobid, token, adminUrl }) => {
        const provider = async () => token;
        for (let i = 0; i < 2; i++) {
          const el = document.createElement('jobwatch-job') as unknown as HTMLElement & {
            tokenProvider: () => Promise<string>;
          };
          el.className = 'pair';
          el.setAttribute('admin-url', adminUrl);
          el.setAttribute('job-id', jobid);
          el.tokenProvider = provider;
          document.getElementById('host')!.append(el);
        }
      },
      { jobid, token, adminUrl: `${server.url}/arcgis/admin` },
    );
    const statuses = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('jobwatch-job.pair')]
          .map((el) => el.getAttribute('status'))
          .join(','),
      );
    await until(statuses, 'SUBMITTED,SUBMITTED', 'both widgets');
    const before = sim.stats().byJob[jobid] ?? 0;
    sim.advance(6_000);
    await until(statuses, 'FAILED,FAILED', 'both widgets after the end');
    const polls = (sim.stats().byJob[jobid] ?? 0) - before;
    // Each poll loop reads the end once and stops: one loop for the two widgets, one read.
    expect(polls).toBe(1);
  });

  it('keeps the shared poll loop for the widget that remains, stops it once the last is removed, and starts it again for a new one', async () => {
    const token = sim.issueToken();
    const jobid = sim.createJob({ outcome: 'COMPLETED', durationMs: 600_000 });
    const adminUrl = `${server.url}/arcgis/admin`;
    await page.evaluate(
      ({ jobid, token, adminUrl }) => {
        const w = window as unknown as { provider: () => Promise<string> };
        w.provider = async () => token;
        for (let i = 0; i < 2; i++) {
          const el = document.createElement('jobwatch-job') as unknown as HTMLElement & {
            tokenProvider: () => Promise<string>;
          };
          el.className = 'kept';
          el.setAttribute('admin-url', adminUrl);
          el.setAttribute('job-id', jobid);
          el.tokenProvider = w.provider;
          document.getElementById('host')!.append(el);
        }
      },
      { jobid, token, adminUrl },
    );
    const statuses = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('jobwatch-job.kept')]
          .map((el) => el.getAttribute('status'))
          .join(','),
      );
    await until(statuses, 'SUBMITTED,SUBMITTED', 'both widgets');
    const polls = () => sim.stats().byJob[jobid] ?? 0;
    const removeOne = () =>
      page.evaluate(() => document.querySelector('jobwatch-job.kept')?.remove());
    // One widget gone: the other still follows the job through the same loop.
    await removeOne();
    sim.advance(1_000);
    await until(statuses, 'EXECUTING', 'the remaining widget');
    // The last one gone: the loop stops once rx's grace (2 s) has passed. No event says that
    // nothing more will come, so the proof is a quiet spell longer than the loop's 1 s pace.
    await removeOne();
    let last = polls();
    let since = Date.now();
    const quiet = async () => {
      if (polls() !== last) {
        last = polls();
        since = Date.now();
      }
      return Date.now() - since > 1_500;
    };
    await until(quiet, true, 'no more polls after the last widget was removed', 10_000);
    // A new widget of the job, with the same provider, starts a loop again.
    const stopped = polls();
    await page.evaluate(
      ({ jobid, adminUrl }) => {
        const el = document.createElement('jobwatch-job') as unknown as HTMLElement & {
          tokenProvider: () => Promise<string>;
        };
        el.className = 'kept';
        el.setAttribute('admin-url', adminUrl);
        el.setAttribute('job-id', jobid);
        el.tokenProvider = (window as unknown as { provider: () => Promise<string> }).provider;
        document.getElementById('host')!.append(el);
      },
      { jobid, adminUrl },
    );
    await until(statuses, 'EXECUTING', 'the new widget');
    expect(polls()).toBeGreaterThan(stopped);
    sim.advance(600_000);
    await until(statuses, 'COMPLETED', 'the new widget after the end');
    await removeOne();
  });

  it('lists every job of the deployment in <jobwatch-jobs>, discovered by listing', async () => {
    const token = sim.issueToken();
    const jobid = sim.createJob({
      outcome: 'CANCELLED',
      durationMs: 4_000,
      operation: '/arcgis/admin/system/disasterrecovery/stores/default/backups/create',
    });
    await page.evaluate(
      ({ token, adminUrl }) => {
        const el = document.createElement('jobwatch-jobs') as unknown as HTMLElement & {
          tokenProvider: () => string;
        };
        el.setAttribute('admin-url', adminUrl);
        el.tokenProvider = () => token;
        document.getElementById('host')!.append(el);
      },
      { token, adminUrl: `${server.url}/arcgis/admin` },
    );
    const row = () =>
      page.evaluate(
        (jobid) =>
          document
            .querySelector('jobwatch-jobs')
            ?.shadowRoot?.querySelector(`li[data-key="default/${jobid}"]`)
            ?.getAttribute('data-status') ?? null,
        jobid,
      );
    await until(row, 'SUBMITTED', 'the discovered job');
    sim.advance(5_000);
    await until(row, 'CANCELLED', 'the discovered job after its end');
  });
});

describe('direct mode across origins', () => {
  it('polls the simulator on its own origin: it answers CORS for any page by default, as the README says', async () => {
    const token = sim.issueToken();
    const jobid = sim.createJob({ outcome: 'COMPLETED', durationMs: 5_000 });
    // The simulator's origin is not the page's.
    expect(new URL(sim.adminUrl).origin).not.toBe(server.url);
    const other = await browser.page();
    await other.goto(server.url);
    await other.waitForFunction(() => customElements.get('jobwatch-job') !== undefined);
    await other.evaluate(
      ({ jobid, token, adminUrl }) => {
        const el = document.createElement('jobwatch-job') as unknown as HTMLElement & {
          tokenProvider: () => string;
        };
        el.setAttribute('admin-url', adminUrl);
        el.setAttribute('job-id', jobid);
        el.tokenProvider = () => token;
        document.getElementById('host')!.append(el);
      },
      { jobid, token, adminUrl: sim.adminUrl },
    );
    const state = () =>
      other.evaluate(() => {
        const el = document.querySelector('jobwatch-job');
        return `${el?.getAttribute('status')} ${el?.shadowRoot?.querySelector('[part="error"]')?.textContent ?? ''}`.trim();
      });
    await until(state, 'SUBMITTED', 'before the end');
    sim.advance(6_000);
    await until(state, 'COMPLETED', 'after the end');
    expect(sim.stats().byJob[jobid]).toBeGreaterThan(0);
    await other.close();
  });
});

describe('direct mode under a Content Security Policy without unsafe-eval', () => {
  it('loads its code from beside the single file and validates every body without eval', async () => {
    const strict = await browser.page();
    const before = server.requests.length;
    await strict.goto(`${server.url}/csp`);
    await strict.waitForFunction(() => customElements.get('jobwatch-job') !== undefined);
    expect(
      await strict.evaluate(() => (window as unknown as { evalBlocked: boolean }).evalBlocked),
    ).toBe(true);
    // Until an element asks for direct mode, its code is not fetched.
    expect(server.requests.slice(before)).not.toContain('/jobwatch-widget-direct.js');
    const token = sim.issueToken();
    const jobid = sim.createJob({
      outcome: 'FAILED',
      durationMs: 5_000,
      operation: '/arcgis/admin/services/Parcels.MapServer/edit',
    });
    await strict.evaluate(
      ({ jobid, token, adminUrl }) => {
        const el = document.createElement('jobwatch-job') as unknown as HTMLElement & {
          tokenProvider: () => Promise<string>;
        };
        el.setAttribute('admin-url', adminUrl);
        el.setAttribute('job-id', jobid);
        el.tokenProvider = async () => token;
        document.getElementById('host')!.append(el);
      },
      { jobid, token, adminUrl: `${server.url}/arcgis/admin` },
    );
    const status = () =>
      strict.evaluate(() => document.querySelector('jobwatch-job')?.getAttribute('status') ?? null);
    await until(status, 'SUBMITTED', 'before the end');
    sim.advance(6_000);
    await until(status, 'FAILED', 'after the end');
    expect(server.requests.slice(before)).toContain('/jobwatch-widget-direct.js');
    const violations = await strict.evaluate(
      () => (window as unknown as { violations: string[] }).violations,
    );
    expect(violations.filter((v) => / eval$/.test(v))).toHaveLength(1);
    await strict.close();
  });
});
