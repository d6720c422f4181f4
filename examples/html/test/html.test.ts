/**
 * The plain HTML example in Chromium, with the whole stack behind it: the simulator on a
 * manual clock, `jobwatch serve` watching it with discovery, and the example's own server
 * (tickets, the single file, the event stream passed on). The page follows one job and
 * lists every job; when the job ends, its `jobwatch-end` event reaches the page's script.
 */
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import {
  type Chromium,
  launchChromium,
  type ServedDaemon,
  serveDaemon,
} from '@jobwatch/test-utils';
import { waitFor } from 'jobwatch-e2e';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../server.mjs';

let sim: Simulator;
let daemon: ServedDaemon;
let server: { url: string; close(): Promise<void> };
let chromium: Chromium;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 18 });
  daemon = await serveDaemon({ adminUrl: sim.adminUrl, discover: true });
  server = await startServer({ daemonUrl: daemon.url, apiKey: daemon.apiKey });
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await server?.close();
  await daemon?.stop();
  await sim?.close();
});

describe('examples/html', () => {
  it('follows a job live, lists every job, and hears the job end', async () => {
    const followed = sim.createJob({ outcome: 'COMPLETED', durationMs: 60_000 });
    sim.createJob({ outcome: 'FAILED', durationMs: 30_000 });
    const page = await chromium.page();
    await page.goto(`${server.url}/?job=${followed}`);

    const current = page.locator('#current');
    const rows = page.locator('#all').getByRole('listitem');
    await waitFor(
      async () => ['SUBMITTED', 'EXECUTING'].includes((await current.getAttribute('status')) ?? ''),
      {
        timeoutMs: 15_000,
        what: () => `the followed job running; page errors: ${chromium.errors.join('; ')}`,
      },
    );
    await waitFor(async () => (await rows.count()) === 2, {
      timeoutMs: 15_000,
      what: 'both jobs in the list (found by the daemon’s discovery)',
    });

    sim.advance(60_000);
    await waitFor(async () => (await current.getAttribute('status')) === 'COMPLETED', {
      timeoutMs: 15_000,
      what: 'the followed job COMPLETED',
    });
    await expect
      .poll(() => page.locator('#outcome').textContent())
      .toBe(`Job ${followed} ended: COMPLETED`);
    const rowsIn = (status: string) => page.locator(`#all li[data-status="${status}"]`).count();
    await expect.poll(() => rowsIn('FAILED')).toBe(1);
    expect(await rowsIn('COMPLETED')).toBe(1);
    // The page never saw the key: only tickets, and only through its own server.
    expect(await page.content()).not.toContain(daemon.apiKey);
    expect(chromium.errors).toEqual([]);
  });
});
