/**
 * The widget following jobs of other sources through the daemon, in real Chromium: the
 * simulator in-process (manual clock), `jobwatch serve` as a process with one deployment of
 * kind `server` (its ArcGIS Server admin jobs found by listing; a geoprocessing job added with
 * `POST /api/jobs {"url"}`), and a page that holds only tickets. The progress bar, the step
 * and the GP job's result links come from the daemon's event stream.
 */
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bundlePage,
  type DaemonProcess,
  launchBrowser,
  type PageServer,
  proxyTo,
  removeDir,
  startDaemon,
  startPageServer,
  type TestBrowser,
  until,
} from './harness.js';

let sim: Simulator;
let daemon: DaemonProcess;
let server: PageServer;
let browser: TestBrowser;
let page: Page;

const PAGE = bundlePage(`<script type="module">
  await customElements.whenDefined('jobwatch-job');
  const ticket = async () => {
    const r = await fetch('/ticket', { method: 'POST' });
    if (!r.ok) throw new Error('ticket ' + r.status);
    return (await r.json()).ticket;
  };
  window.watchOne = (jobid) => {
    const el = document.createElement('jobwatch-job');
    el.ticketProvider = ticket;
    el.daemon = location.origin;
    el.setAttribute('job-id', jobid);
    document.body.prepend(el);
  };
</script>`);

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 1515 });
  daemon = await startDaemon(sim.serverAdminUrl, { kind: 'server' });
  server = await startPageServer({
    '/': PAGE,
    '/ticket': async (_req, res) => {
      const answer = await fetch(`${daemon.url}/api/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${daemon.apiKey}` },
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
    },
  });
  server.route('/api/events', proxyTo(daemon.url));
  browser = await launchBrowser();
  page = await browser.page();
  await page.goto(server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await daemon?.stop();
  if (daemon) removeDir(daemon.dataDir);
  await sim?.close();
});

afterEach(() => {
  expect(browser.errors.splice(0)).toEqual([]);
});

/** What `<jobwatch-job job-id=…>` shows: its status, progress bar, step and result links. */
const shown = (jobid: string) =>
  page.evaluate((jobid) => {
    const inner = document
      .querySelector(`jobwatch-job[job-id="${jobid}"]`)
      ?.shadowRoot?.querySelector('jobwatch-status')?.shadowRoot;
    const bar = inner?.querySelector('progress') ?? null;
    return {
      status: document.querySelector(`jobwatch-job[job-id="${jobid}"]`)?.getAttribute('status'),
      progress: bar ? bar.value : null,
      step: inner?.querySelector('[part="step"]')?.textContent?.trim() ?? null,
      links: [...(inner?.querySelectorAll('a[part="result-link"]') ?? [])].map((a) =>
        a.getAttribute('href'),
      ),
    };
  }, jobid);

const watchOne = (jobid: string) =>
  page.evaluate((id) => (window as unknown as { watchOne(id: string): void }).watchOne(id), jobid);

describe('jobs of other sources through the daemon', () => {
  it('follows an ArcGIS Server admin job the daemon discovered: a progress bar and its step, then its end', async () => {
    const job = sim.createServerJob({
      outcome: 'COMPLETED',
      durationMs: 4_000,
      steps: ['Stopping the service', 'Updating the service', 'Starting the service'],
    });
    await watchOne(job.jobid);
    sim.advance(1_500);
    await until(async () => ((await shown(job.jobid)).progress ?? 0) > 0, true, 'progress bar');
    const midway = await shown(job.jobid);
    expect(midway.status).toBe('EXECUTING');
    expect(midway.progress).toBeLessThan(100);
    expect(midway.step).toMatch(/service/);
    sim.advance(3_000);
    await until(async () => (await shown(job.jobid)).status, 'COMPLETED', 'server job end');
  });

  it('follows a geoprocessing job posted by URL: progress while it runs, its result links at the end', async () => {
    const gp = sim.createGpJob({ outcome: 'esriJobSucceeded', durationMs: 10_000 });
    const posted = await fetch(`${daemon.url}/api/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${daemon.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: gp.jobUrl }),
    });
    expect(posted.status, await posted.text()).toBe(201);
    await watchOne(gp.jobId);
    sim.advance(5_000);
    await until(async () => ((await shown(gp.jobId)).progress ?? 0) > 0, true, 'GP progress');
    expect((await shown(gp.jobId)).status).toBe('EXECUTING');
    sim.advance(6_000);
    await until(async () => (await shown(gp.jobId)).status, 'COMPLETED', 'GP job end');
    const end = await shown(gp.jobId);
    expect(end.links.length).toBeGreaterThan(0);
    for (const href of end.links) expect(href?.startsWith(`${gp.jobUrl}/results/`)).toBe(true);
  });
});
