/**
 * The widget in Chromium against a server that answers as real ones do: the simulator with
 * quirks (an ERROR status, message objects, numeric-string times, no operationURI, lower-case
 * statuses) behind a deployment that reads the token only from `Authorization`. The widget
 * shows each job's end and, for a failed one, why — in the server's words.
 */
import { failureReason, parseJob } from '@jobwatch/schema';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bundlePage,
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

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 12, tokenHeader: 'authorization' });
  server = await startPageServer({
    '/': bundlePage('<div id="host"></div>'),
    '/arcgis/*': proxyTo(sim.url),
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

describe('quirks on, one header read', () => {
  it('shows a quirky failed job as ERROR with its reason and messages, and a quirky completed one as COMPLETED', async () => {
    const token = sim.issueToken();
    const failed = sim.createJob({
      outcome: 'FAILED',
      durationMs: 2_000,
      quirks: [
        'errorStatus',
        'messageObjects',
        'stringTimestamps',
        'noOperationUri',
        'nullUsername',
      ],
    });
    const done = sim.createJob({
      outcome: 'COMPLETED',
      durationMs: 2_000,
      quirks: ['lowerCaseStatus', 'typedProperties', 'extraFields'],
    });
    await page.evaluate(
      ({ ids, token, adminUrl }) => {
        for (const id of ids) {
          const el = document.createElement('jobwatch-job') as unknown as HTMLElement & {
            tokenProvider: () => Promise<string>;
          };
          el.id = `job-${id}`;
          el.setAttribute('admin-url', adminUrl);
          el.setAttribute('job-id', id);
          el.tokenProvider = async () => token;
          document.getElementById('host')!.append(el);
        }
      },
      { ids: [failed, done], token, adminUrl: `${server.url}/arcgis/admin` },
    );
    const status = (id: string) =>
      page.evaluate(
        (id) => document.getElementById(`job-${id}`)?.getAttribute('status') ?? null,
        id,
      );
    await until(() => status(failed), 'SUBMITTED', 'before the end');
    sim.advance(2_000);
    await until(() => status(failed), 'ERROR', 'the failed job');
    await until(() => status(done), 'COMPLETED', 'the completed job');

    const body = parseJob(sim.job(failed));
    const reason = failureReason(body);
    expect(reason).toBeTruthy();
    const shown = await page.evaluate((id) => {
      const root = document.getElementById(`job-${id}`)?.shadowRoot;
      const card = root?.querySelector('jobwatch-status')?.shadowRoot ?? root;
      return {
        label: card?.querySelector('[part="status"]')?.textContent?.trim(),
        reason: card?.querySelector('[part="reason"]')?.textContent?.replace(/\s+/g, ' ').trim(),
        messages: [...(card?.querySelectorAll('[part="messages"] li') ?? [])].map((li) => ({
          text: li.textContent?.trim(),
          severity: li.className,
        })),
      };
    }, failed);
    expect(shown.label).toBe('Error');
    expect(shown.reason).toBe(`Why ${reason}`);
    expect(shown.messages.length).toBeGreaterThan(0);
    expect(shown.messages.some((m) => m.severity === 'error')).toBe(true);
  });
});
