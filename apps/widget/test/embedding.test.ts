/**
 * Embedding as a new user would: the README's snippet, taken from the README itself and run
 * as written against a real daemon on another origin, and what the widget says when it gets
 * nothing — a daemon that does not allow the page's origin, or does not watch the job.
 */
import { readFileSync } from 'node:fs';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type DaemonProcess,
  launchBrowser,
  type PageServer,
  type Route,
  removeDir,
  startDaemon,
  startPageServer,
  type TestBrowser,
  until,
} from './harness.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The first ```html block under the README's "## Embedding" heading, verbatim. */
function readmeSnippet(): string {
  const section = README.slice(README.indexOf('\n## Embedding\n'));
  const match = /```html\n([\s\S]*?)\n```/.exec(section);
  if (!match?.[1]) throw new Error('the README has no html block under "## Embedding"');
  return match[1];
}

/** What the README's snippet leaves to the reader to fill in, as it writes them. */
const PLACEHOLDERS = {
  bundle: 'https://your.cdn/jobwatch-widget.js',
  daemon: 'https://jobs.example.com',
  jobid: 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d',
  ticketPath: '/jobwatch-ticket',
} as const;

let sim: Simulator;
let daemon: DaemonProcess;
/** An origin in the daemon's `cors.origins`. */
let allowed: PageServer;
/** An origin that is not. */
let foreign: PageServer;
let browser: TestBrowser;

/** The page's own server trades its API key for a ticket, as the README describes. */
const ticketRoute: Route = async (_req, res) => {
  const answer = await fetch(`${daemon.url}/api/tickets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${daemon.apiKey}` },
  });
  res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
};

/** A page that loads the bundle and records the elements' `jobwatch-error` events. */
const pageWith = (body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>embedding</title><script>
window.problems = [];
document.addEventListener('jobwatch-error', (e) => window.problems.push({ from: e.target.localName,
  bubbles: e.bubbles, composed: e.composed, ...e.detail }));
</script></head><body>${body}</body></html>`;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 23 });
  allowed = await startPageServer({
    [PLACEHOLDERS.ticketPath]: ticketRoute,
    '/ticket': ticketRoute,
  });
  foreign = await startPageServer({ '/ticket': ticketRoute });
  // No discovery: the daemon watches only the jobs it is asked to.
  daemon = await startDaemon(sim.adminUrl, { discover: false, corsOrigins: [allowed.url] });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await allowed?.close();
  await foreign?.close();
  await daemon?.stop();
  if (daemon) removeDir(daemon.dataDir);
  await sim?.close();
});

afterEach(() => {
  // A refused cross-origin stream is reported by Chromium on the console; that is the point.
  const errors = browser.errors
    .splice(0)
    .filter((e) => !/CORS policy|net::ERR_FAILED|EventSource/.test(e));
  expect(errors).toEqual([]);
});

/** Asks the daemon to watch a job, as an operator or a script would. */
async function watchOnDaemon(jobid: string): Promise<void> {
  const answer = await fetch(`${daemon.url}/api/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${daemon.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jobid }),
  });
  expect(answer.status).toBe(201);
}

/** `<jobwatch-job>`'s reflected status, its error part and the problems it announced. */
const jobState = (page: Page) =>
  page.evaluate(() => {
    const el = document.querySelector('jobwatch-job') as
      | (HTMLElement & { problem?: unknown })
      | null;
    return {
      status: el?.getAttribute('status') ?? null,
      error: el?.shadowRoot?.querySelector('[part="error"]')?.textContent?.trim() ?? null,
      problem: el?.problem ?? null,
      problems: (window as unknown as { problems: unknown[] }).problems,
    };
  });

describe("the README's embedding snippet", () => {
  it('runs as written: the job live in <jobwatch-job>, every watched job in <jobwatch-jobs>', async () => {
    const snippet = readmeSnippet();
    // Each placeholder is where the README says it is; a README that moves or renames one
    // fails here rather than drifting silently.
    for (const placeholder of Object.values(PLACEHOLDERS)) expect(snippet).toContain(placeholder);
    const jobid = sim.createJob({
      outcome: 'COMPLETED',
      durationMs: 10_000,
      operation: '/arcgis/admin/services/Parcels.MapServer/edit',
    });
    await watchOnDaemon(jobid);
    const html = snippet
      .replaceAll(PLACEHOLDERS.bundle, `${allowed.url}/jobwatch-widget.js`)
      .replaceAll(PLACEHOLDERS.daemon, daemon.url)
      .replaceAll(PLACEHOLDERS.jobid, jobid);
    allowed.route('/readme', pageWith(html));
    const page = await browser.page();
    await page.goto(`${allowed.url}/readme`);
    const rowStatus = () =>
      page.evaluate(
        (jobid) =>
          document
            .querySelector('jobwatch-jobs')
            ?.shadowRoot?.querySelector(`li[data-key="default/${jobid}"]`)
            ?.getAttribute('data-status') ?? null,
        jobid,
      );
    // Shown, or a problem says why not (fails at once rather than at the time limit).
    await until(
      async () => {
        const state = await jobState(page);
        return state.status === 'SUBMITTED' || state.problems.length > 0;
      },
      true,
      'job element',
    );
    expect((await jobState(page)).problems).toEqual([]);
    await until(rowStatus, 'SUBMITTED', 'list row');
    sim.advance(11_000);
    await until(async () => (await jobState(page)).status, 'COMPLETED', 'job element');
    await until(rowStatus, 'COMPLETED', 'list row');
    expect(await jobState(page)).toMatchObject({ error: null, problem: null, problems: [] });
    // The page asked its own server for tickets (the README's path); the key never reached it.
    expect(allowed.requests).toContain(PLACEHOLDERS.ticketPath);
    expect(await page.content()).not.toContain(daemon.apiKey);
    await page.close();
  });
});

describe('when the widget gets nothing, it says why', () => {
  it("says the daemon's stream cannot be reached when the page's origin is not in cors.origins", async () => {
    const jobid = sim.createJob({ outcome: 'COMPLETED', durationMs: 600_000 });
    await watchOnDaemon(jobid);
    foreign.route(
      '/',
      pageWith(`<script type="module" src="/jobwatch-widget.js"></script>
<jobwatch-job daemon="${daemon.url}" job-id="${jobid}"></jobwatch-job>
<jobwatch-jobs daemon="${daemon.url}"></jobwatch-jobs>
<script type="module">
  for (const el of document.querySelectorAll('jobwatch-job, jobwatch-jobs'))
    el.ticketProvider = () => fetch('/ticket', { method: 'POST' }).then((r) => r.json()).then((t) => t.ticket);
</script>`),
    );
    const page = await browser.page();
    await page.goto(`${foreign.url}/`);
    await page.waitForFunction(() => customElements.get('jobwatch-job') !== undefined);
    // `pending` from the start, not absent until a first snapshot.
    expect((await jobState(page)).status).toBe('pending');
    await until(async () => (await jobState(page)).error !== null, true, 'error part');
    const state = await jobState(page);
    expect(state.status).toBe('pending');
    expect(state.error).toMatch(
      new RegExp(
        `^Still trying: Cannot reach the daemon's event stream at ${daemon.url}/api/events \\(2 tries in a row\\); still trying\\. Check that the daemon is running and that this page's origin \\(${foreign.url}\\) is in its cors\\.origins$`,
      ),
    );
    expect(state.error).not.toMatch(/ticket=/);
    const problem = { bubbles: true, composed: true, code: 'TRANSPORT', final: false };
    await until(async () => (await jobState(page)).problems.length, 2, 'both elements');
    expect((await jobState(page)).problems).toEqual(
      expect.arrayContaining([
        { from: 'jobwatch-job', message: state.error, ...problem },
        { from: 'jobwatch-jobs', message: state.error, ...problem },
      ]),
    );
    expect(
      await page.evaluate(
        () =>
          document.querySelector('jobwatch-jobs')?.shadowRoot?.querySelector('[part="error"]')
            ?.textContent,
      ),
    ).toBe(state.error);
    expect(state.problem).toEqual({ code: 'TRANSPORT', message: state.error, final: false });
    // The card itself still says it is waiting, with the error part below it.
    const label = await page.evaluate(
      () =>
        document
          .querySelector('jobwatch-job')
          ?.shadowRoot?.querySelector('jobwatch-status')
          ?.shadowRoot?.textContent?.trim() ?? '',
    );
    expect(label).toContain('Waiting for first status');
    await page.close();
  });

  it('says the daemon does not watch the job, and shows the job once it does', async () => {
    const jobid = sim.createJob({ outcome: 'COMPLETED', durationMs: 600_000 });
    allowed.route(
      '/unwatched',
      pageWith(`<script type="module" src="/jobwatch-widget.js"></script>
<jobwatch-job daemon="${daemon.url}" job-id="${jobid}" lang="de"></jobwatch-job>
<script type="module">
  document.querySelector('jobwatch-job').ticketProvider = () =>
    fetch('/ticket', { method: 'POST' }).then((r) => r.json()).then((t) => t.ticket);
</script>`),
    );
    const page = await browser.page();
    await page.goto(`${allowed.url}/unwatched`);
    await until(async () => (await jobState(page)).error !== null, true, 'error part');
    const state = await jobState(page);
    expect(state).toMatchObject({
      status: 'pending',
      error: `Der jobwatch-Dienst beobachtet Job ${jobid} (noch) nicht.`,
      problems: [{ from: 'jobwatch-job', code: 'JOB_NOT_WATCHED', final: false }],
    });
    await watchOnDaemon(jobid);
    await until(async () => (await jobState(page)).status, 'SUBMITTED', 'once watched');
    expect(await jobState(page)).toMatchObject({ error: null, problem: null });
    expect((await jobState(page)).problems).toHaveLength(1);
    await page.close();
  });
});
