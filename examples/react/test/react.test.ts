/**
 * The React example, rendered on the server and hydrated in Chromium, with the whole stack
 * behind it: the simulator on a manual clock, `jobwatch serve` watching it with discovery,
 * and the example's own server. Checks what a React developer relies on: the server renders
 * the elements without defining them, properties (a ticket function, a messages object)
 * reach the elements after hydration, and the elements' events reach React state.
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

describe('examples/react', () => {
  it('renders on the server in Node without defining the elements', async () => {
    const { render } = await import('../dist/server/entry-server.js');
    const html = render({ daemon: 'https://jobs.example.com', jobId: 'jabc123' });
    expect(html).toContain('<jobwatch-job job-id="jabc123"');
    expect(html).toContain('<jobwatch-jobs');
    expect(globalThis.customElements?.get('jobwatch-job')).toBeUndefined();
  });

  it('hydrates: properties reach the elements and their events reach React state', async () => {
    const jobid = sim.createJob({ outcome: 'COMPLETED', durationMs: 60_000 });
    sim.createJob({ outcome: 'FAILED', durationMs: 30_000 });
    const served = await (await fetch(`${server.url}/?job=${jobid}`)).text();
    expect(served).toContain(`<jobwatch-job job-id="${jobid}"`);

    const page = await chromium.page();
    await page.goto(`${server.url}/?job=${jobid}`);
    const job = page.locator('jobwatch-job');
    await waitFor(
      async () => ['SUBMITTED', 'EXECUTING'].includes((await job.getAttribute('status')) ?? ''),
      {
        timeoutMs: 15_000,
        what: () => `the followed job running; page errors: ${chromium.errors.join('; ')}`,
      },
    );
    // jobwatch-change, heard by React: the app lists the statuses it was told of.
    await expect.poll(() => page.locator('.changes li').count()).toBeGreaterThan(0);
    await waitFor(async () => (await page.locator('jobwatch-jobs li').count()) === 2, {
      timeoutMs: 15_000,
      what: 'both jobs in the list',
    });

    sim.advance(60_000);
    await expect
      .poll(() => page.locator('.outcome').textContent(), { timeout: 15_000 })
      .toBe(`Job ${jobid} ended: COMPLETED`);
    expect(await job.getAttribute('status')).toBe('COMPLETED');
    // The messages property (an object, which no attribute could carry) renames the status.
    expect(await job.getByText('Deployed', { exact: true }).isVisible()).toBe(true);
    expect(await page.locator('.changes li').last().textContent()).toBe('COMPLETED');
    await expect.poll(() => page.locator('jobwatch-jobs li[data-status="FAILED"]').count()).toBe(1);
    // Hydration went through without a mismatch or any other error.
    expect(chromium.errors).toEqual([]);
  });
});
