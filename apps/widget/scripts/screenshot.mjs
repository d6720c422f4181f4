#!/usr/bin/env node
// Starts the demo, lets it run for a while, and saves a screenshot of its page to
// apps/widget/demo/screenshot.png (for the README). Needs a build first.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '@jobwatch/test-utils';

const start = fileURLToPath(new URL('../demo/start.mjs', import.meta.url));
const out = fileURLToPath(new URL('../demo/screenshot.png', import.meta.url));
const settleMs = Number(process.env.JOBWATCH_SCREENSHOT_WAIT_MS ?? 20_000);

const demo = spawn(process.execPath, [start], {
  env: { ...process.env, JOBWATCH_DEMO_PORT: '0' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const exited = new Promise((resolve) => demo.once('exit', resolve));
const url = await new Promise((resolve, reject) => {
  let buffer = '';
  demo.stdout.on('data', (chunk) => {
    buffer += chunk;
    const match = buffer.match(/^(http:\/\/\S+)$/m);
    if (match) resolve(match[1]);
  });
  demo.once('exit', (code) =>
    reject(new Error(`the demo exited (${code}) before printing its URL`)),
  );
});

const chromium = await launchChromium({
  viewport: { width: 1280, height: 900 },
  colorScheme: 'light',
});
try {
  const page = await chromium.page();
  await page.goto(url);
  await page.waitForFunction(
    () =>
      (document.querySelector('jobwatch-jobs')?.shadowRoot?.querySelectorAll('li').length ?? 0) >=
      6,
    undefined,
    { timeout: 30_000 },
  );
  await page.waitForTimeout(settleMs);
  // Open one finished row, to show the details a person gets.
  await page.evaluate(() => {
    const rows = document
      .querySelector('jobwatch-jobs')
      .shadowRoot.querySelectorAll('li[data-status="FAILED"] details');
    if (rows[0]) rows[0].open = true;
  });
  await page.waitForTimeout(300);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`saved ${out}`);
} finally {
  await chromium.close();
  demo.kill('SIGINT');
  await exited;
}
