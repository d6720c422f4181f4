/**
 * The widget fed by the daemon's event stream, with the whole stack behind it: the simulator
 * in-process (manual clock), `jobwatch serve` as a process (a 1 s heartbeat, so that a
 * silent stream shows within seconds), and a page server that hands out tickets (it holds
 * the API key; the page never does) and passes the stream through.
 */
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bundlePage,
  CSP_PROBE,
  cspPage,
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
const tickets: string[] = [];

const PAGE = bundlePage(`<jobwatch-jobs id="list"></jobwatch-jobs>
<script type="module">
  await customElements.whenDefined('jobwatch-jobs');
  window.ticket = async () => {
    const r = await fetch('/ticket', { method: 'POST' });
    if (!r.ok) throw new Error('ticket ' + r.status);
    return (await r.json()).ticket;
  };
  window.ends = [];
  document.addEventListener('jobwatch-end', (e) => window.ends.push({ jobid: e.detail.jobid, status: e.detail.status, from: e.target.localName }));
  window.stales = [];
  document.addEventListener('jobwatch-change', (e) => {
    if (e.detail.stale) window.stales.push({ jobid: e.detail.jobid, from: e.target.localName, trouble: e.detail.trouble });
  });
  const list = document.getElementById('list');
  list.ticketProvider = window.ticket;
  list.daemon = location.origin;
  window.watchOne = (jobid) => {
    const el = document.createElement('jobwatch-job');
    el.ticketProvider = window.ticket;
    el.daemon = location.origin;
    el.setAttribute('job-id', jobid);
    document.body.prepend(el);
  };
</script>`);

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 7 });
  daemon = await startDaemon(sim.adminUrl, { heartbeat: '1s' });
  server = await startPageServer({
    '/': PAGE,
    '/ticket': async (_req, res) => {
      const answer = await fetch(`${daemon.url}/api/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${daemon.apiKey}` },
      });
      const body = await answer.text();
      tickets.push(body);
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(body);
    },
  });
  server.route('/api/events', proxyTo(daemon.url));
  server.route('/csp', cspPage('<div id="host"></div>'));
  server.route('/csp-probe.js', CSP_PROBE);
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
  // The stream drops while the daemon restarts; anything else is a real error.
  const errors = browser.errors
    .splice(0)
    .filter((e) => !/ERR_EMPTY_RESPONSE|ERR_CONNECTION|net::|EventSource/.test(e));
  expect(errors).toEqual([]);
});

const statusOfJob = (jobid: string) =>
  page.evaluate(
    (jobid) =>
      document.querySelector(`jobwatch-job[job-id="${jobid}"]`)?.getAttribute('status') ?? null,
    jobid,
  );

/** Whether `<jobwatch-job>` shows its job stale, and what its trouble line says. */
const staleness = (jobid: string) =>
  page.evaluate((jobid) => {
    const inner = document
      .querySelector(`jobwatch-job[job-id="${jobid}"]`)
      ?.shadowRoot?.querySelector('jobwatch-status');
    return {
      stale: inner?.hasAttribute('stale') ?? false,
      trouble: inner?.shadowRoot?.querySelector('[part="trouble"]')?.textContent ?? null,
    };
  }, jobid);

const rowStale = (jobid: string) =>
  page.evaluate(
    (jobid) =>
      document
        .getElementById('list')!
        .shadowRoot!.querySelector(`li[data-key="default/${jobid}"] jobwatch-status`)
        ?.hasAttribute('stale') ?? null,
    jobid,
  );

interface StaleChange {
  jobid: string;
  from: string;
  trouble: { code: string; message: string; since: number; attempts: number };
}
const stales = (jobid: string) =>
  page.evaluate(
    (jobid) =>
      (window as unknown as { stales: StaleChange[] }).stales.filter((s) => s.jobid === jobid),
    jobid,
  );

/** A job that runs (EXECUTING from its first millisecond) for `durationMs`. */
const runningJob = (durationMs: number) =>
  sim.createJob({
    outcome: 'COMPLETED',
    durationMs,
    timeline: [{ atMs: 1, status: 'EXECUTING' }],
    operation: '/arcgis/admin/services/Fire/FireWeatherWatch.MapServer/edit',
  });

const rowStatus = (jobid: string) =>
  page.evaluate(
    (jobid) =>
      document
        .getElementById('list')!
        .shadowRoot!.querySelector(`li[data-key="default/${jobid}"]`)
        ?.getAttribute('data-status') ?? null,
    jobid,
  );

describe('the daemon as the source', () => {
  it('shows a job live, from discovery to its end, in <jobwatch-job> and <jobwatch-jobs>', async () => {
    const jobid = sim.createJob({
      outcome: 'COMPLETED',
      durationMs: 10_000,
      operation: '/arcgis/admin/services/Fire/FireWeatherWatch.MapServer/edit',
    });
    await page.evaluate(
      (jobid) => (window as unknown as { watchOne(id: string): void }).watchOne(jobid),
      jobid,
    );
    await until(() => rowStatus(jobid), 'SUBMITTED', 'list row');
    await until(() => statusOfJob(jobid), 'SUBMITTED', 'job element');
    sim.advance(11_000);
    await until(() => statusOfJob(jobid), 'COMPLETED', 'job element');
    await until(() => rowStatus(jobid), 'COMPLETED', 'list row');
    const ends = await page.evaluate(() => (window as unknown as { ends: unknown[] }).ends);
    expect(ends).toEqual(
      expect.arrayContaining([
        { jobid, status: 'COMPLETED', from: 'jobwatch-job' },
        { jobid, status: 'COMPLETED', from: 'jobwatch-jobs' },
      ]),
    );
    // The page asked for tickets; the key itself never reached it.
    expect(tickets.length).toBeGreaterThan(0);
    const html = await page.content();
    expect(html).not.toContain(daemon.apiKey);
  });

  it('recovers after the daemon restarts, catching up on what happened meanwhile', async () => {
    const jobid = sim.createJob({
      outcome: 'FAILED',
      durationMs: 60_000,
      operation: '/arcgis/admin/services/Hydrants.FeatureServer/stop',
    });
    await page.evaluate(
      (jobid) => (window as unknown as { watchOne(id: string): void }).watchOne(jobid),
      jobid,
    );
    await until(() => statusOfJob(jobid), 'SUBMITTED', 'job element before the restart');
    await daemon.stop();
    sim.advance(61_000);
    await daemon.start();
    await until(() => statusOfJob(jobid), 'FAILED', 'job element after the restart', 30_000);
    await until(() => rowStatus(jobid), 'FAILED', 'list row after the restart', 30_000);
  });

  it('shows every running job stale when the daemon is killed under the page, then fresh and caught up once it is back', async () => {
    const ending = runningJob(60_000);
    const steady = runningJob(3_600_000);
    sim.advance(10);
    const watch = (jobid: string) =>
      page.evaluate(
        (jobid) => (window as unknown as { watchOne(id: string): void }).watchOne(jobid),
        jobid,
      );
    await watch(ending);
    await watch(steady);
    await until(() => statusOfJob(ending), 'EXECUTING', 'before the kill');
    await until(() => statusOfJob(steady), 'EXECUTING', 'before the kill');
    await until(() => rowStatus(steady), 'EXECUTING', 'list row before the kill');
    const killedAt = Date.now();
    await daemon.kill();
    let restarted = false;
    try {
      for (const jobid of [ending, steady]) {
        await until(async () => (await staleness(jobid)).stale, true, 'job element after the kill');
        expect((await staleness(jobid)).trouble).toMatch(
          /^Retrying: The daemon's event stream was lost at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; reconnecting/,
        );
        expect(await statusOfJob(jobid)).toBe('EXECUTING');
      }
      await until(() => rowStale(steady), true, 'list row after the kill');
      const change = (await stales(ending)).find((c) => c.from === 'jobwatch-job');
      expect(change?.trouble.code).toBe('TRANSPORT');
      expect(change?.trouble.since).toBeGreaterThanOrEqual(killedAt - 1000);

      // While it is down, one job ends; the other goes on unchanged.
      sim.advance(61_000);
      await daemon.start();
      restarted = true;
      await until(() => statusOfJob(ending), 'COMPLETED', 'after the restart', 30_000);
      await until(async () => (await staleness(steady)).stale, false, 'after the restart', 30_000);
      expect(await statusOfJob(steady)).toBe('EXECUTING');
      await until(() => rowStatus(ending), 'COMPLETED', 'list row after the restart', 30_000);
      await until(() => rowStale(steady), false, 'list row after the restart', 30_000);
    } finally {
      // The tests after this one need the daemon.
      if (!restarted) await daemon.start();
    }
  });

  it("shows a job stale when the daemon's heartbeats stop, and fresh once they come back", async () => {
    const jobid = runningJob(3_600_000);
    sim.advance(10);
    await page.evaluate(
      (jobid) => (window as unknown as { watchOne(id: string): void }).watchOne(jobid),
      jobid,
    );
    await until(() => statusOfJob(jobid), 'EXECUTING', 'before the freeze');
    await until(async () => (await staleness(jobid)).stale, false, 'before the freeze');
    // Three heartbeats pass with nothing else: the page's EventSource sees them (they are
    // events, not comments), and the quiet job stays fresh.
    const pings = await page.evaluate(async () => {
      const w = window as unknown as { ticket(): Promise<string> };
      const es = new EventSource(`/api/events?jobid=jnone&ticket=${await w.ticket()}`);
      let n = 0;
      await new Promise<void>((resolve) =>
        es.addEventListener('ping', () => {
          if (++n === 3) resolve();
        }),
      );
      es.close();
      return n;
    });
    expect(pings).toBe(3);
    expect(await stales(jobid)).toEqual([]);
    // Frozen, the daemon keeps its connections open but sends nothing.
    const frozenAt = Date.now();
    daemon.freeze();
    try {
      await until(async () => (await staleness(jobid)).stale, true, 'after the freeze', 10_000);
    } finally {
      daemon.thaw();
    }
    expect((await staleness(jobid)).trouble).toMatch(
      /^Retrying: Nothing heard from the daemon's event stream since .+Z; reconnecting/,
    );
    const change = (await stales(jobid)).find((c) => c.from === 'jobwatch-job');
    expect(change?.trouble.code).toBe('TRANSPORT');
    // "Since" is the last word heard: at most a heartbeat before the freeze.
    expect(change?.trouble.since).toBeLessThanOrEqual(frozenAt);
    expect(change?.trouble.since).toBeGreaterThanOrEqual(frozenAt - 2000);
    await until(async () => (await staleness(jobid)).stale, false, 'after the thaw', 20_000);
    expect(await statusOfJob(jobid)).toBe('EXECUTING');
  });
});

describe('under a Content Security Policy without unsafe-eval', () => {
  it("shows a job live from the daemon's stream (parsing compiles no code)", async () => {
    const strict = await browser.page();
    await strict.goto(`${server.url}/csp`);
    await strict.waitForFunction(() => customElements.get('jobwatch-job') !== undefined);
    expect(
      await strict.evaluate(() => (window as unknown as { evalBlocked: boolean }).evalBlocked),
    ).toBe(true);
    const jobid = sim.createJob({
      outcome: 'COMPLETED',
      durationMs: 10_000,
      operation: '/arcgis/admin/services/Parcels.MapServer/start',
    });
    // Set up from outside the page: its policy forbids inline scripts.
    await strict.evaluate((jobid) => {
      const el = document.createElement('jobwatch-job') as unknown as HTMLElement & {
        ticketProvider: () => Promise<string>;
        daemon: string;
      };
      el.ticketProvider = async () => {
        const r = await fetch('/ticket', { method: 'POST' });
        return ((await r.json()) as { ticket: string }).ticket;
      };
      el.daemon = location.origin;
      el.setAttribute('job-id', jobid);
      document.getElementById('host')!.append(el);
    }, jobid);
    const status = () =>
      strict.evaluate(() => document.querySelector('jobwatch-job')?.getAttribute('status') ?? null);
    await until(status, 'SUBMITTED', 'before the end');
    sim.advance(11_000);
    await until(status, 'COMPLETED', 'after the end');
    const label = await strict.evaluate(
      () => document.querySelector('jobwatch-job')?.shadowRoot?.textContent ?? '',
    );
    expect(label).not.toMatch(/Stopped watching/);
    // The probe's own `new Function` is the only code evaluation the policy refused.
    const violations = await strict.evaluate(
      () => (window as unknown as { violations: string[] }).violations,
    );
    expect(violations.filter((v) => / eval$/.test(v))).toHaveLength(1);
    await strict.close();
  });
});
