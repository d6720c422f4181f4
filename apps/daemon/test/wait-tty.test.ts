/** `wait` in-process with a terminal for standard output: live lines redrawn in place. */
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runWait } from '../src/cli/wait.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 9 });
});
afterAll(() => sim.close());

it('draws a live line per job on a terminal and holds messages until the lines are final', async () => {
  const id = sim.createJob({
    outcome: 'COMPLETED',
    durationMs: 1_000,
    operation: '/arcgis/admin/services/Parcels.FeatureServer/stop',
  });
  sim.advance(1_000);
  const missing = 'j00000000-0000-4000-8000-0000000000ff';
  const writes: Array<['out' | 'err', string]> = [];
  const code = await runWait(
    [id, missing],
    {},
    {
      stdout: { isTTY: true, write: (s: string) => writes.push(['out', s]) },
      stderr: { write: (s: string) => writes.push(['err', s]) },
      env: { JOBWATCH_URL: sim.adminUrl, JOBWATCH_USERNAME: 'admin', JOBWATCH_PASSWORD: 'admin' },
    },
  );
  expect(code).toBe(5);
  const out = writes.filter(([k]) => k === 'out').map(([, s]) => s);
  expect(out.slice(1).every((s) => s.startsWith('\x1b[2A'))).toBe(true);
  const last = out.at(-1) ?? '';
  expect(last).toContain(`${id}  COMPLETED`);
  expect(last).toContain('stop Parcels.FeatureServer');
  expect(last).toContain(`${missing}  ERROR`);
  const firstErr = writes.findIndex(([k]) => k === 'err');
  expect(firstErr).toBe(writes.length - 1);
  expect(writes[firstErr]?.[1]).toMatch(/JOB_NOT_FOUND/);
});

it('cuts each live line to the terminal width, so a long line cannot wrap and repeat on redraw', async () => {
  const id = sim.createJob({
    outcome: 'COMPLETED',
    durationMs: 1_000,
    operation: `/arcgis/admin/services/${'VeryLongFolderName'.repeat(3)}/${'Parcels_'.repeat(12)}.FeatureServer/edit`,
  });
  sim.advance(1_000);
  const writes: string[] = [];
  const code = await runWait(
    [id],
    {},
    {
      stdout: { isTTY: true, columns: 60, write: (s: string) => writes.push(s) },
      stderr: { write: () => undefined },
      env: { JOBWATCH_URL: sim.adminUrl, JOBWATCH_USERNAME: 'admin', JOBWATCH_PASSWORD: 'admin' },
    },
  );
  expect(code).toBe(0);
  const lines = writes
    .join('')
    .split('\n')
    .map((l) => l.replace(/\x1b\[\d*[A-Za-z]/g, '').replace(/\r/g, ''))
    .filter(Boolean);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect([...line].length).toBeLessThanOrEqual(60);
  expect(lines.at(-1)).toMatch(new RegExp(`^${id}  COMPLETED .*…$`));
});
