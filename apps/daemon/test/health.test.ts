/**
 * A deployment's trouble in the logs and in `jobwatch_deployment_up`, on a test clock: one
 * warning when it starts, one line when it ends, nothing for a fault among good answers.
 */
import { describe, expect, it } from 'vitest';
import { DeploymentHealth, TROUBLE_AFTER_MS } from '../src/health.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics.js';

function setup() {
  let now = 1_700_000_000_000;
  const lines: Array<Record<string, unknown>> = [];
  const metrics = createMetrics();
  const health = new DeploymentHealth({
    deployment: 'prod',
    logger: createLogger({
      level: 'info',
      destination: { write: (l: string) => lines.push(JSON.parse(l)) },
    }),
    metrics,
    now: () => now,
  });
  const up = async () =>
    (await metrics.deploymentUp.get()).values.find((v) => v.labels.deployment === 'prod')?.value;
  return { health, lines, up, advance: (ms: number) => (now += ms) };
}

const troubleLines = (lines: Array<Record<string, unknown>>) =>
  lines.filter((l) => l.msg === 'deployment in trouble' || l.msg === 'deployment recovered');

describe('deployment trouble', () => {
  it('logs one warning when failures last, and one line with how long when an answer comes', async () => {
    const { health, lines, up, advance } = setup();
    expect(await up()).toBe(1);
    for (let i = 0; i < 60; i++) {
      health.failed('TRANSPORT', 'HTTP 503 from https://gis.example.com/arcgis/admin/jobs/j1');
      advance(500);
    }
    expect(await up()).toBe(0);
    health.ok();
    health.ok();
    expect(await up()).toBe(1);
    const [start, end, ...rest] = troubleLines(lines);
    expect(rest).toEqual([]);
    expect(start).toMatchObject({
      level: 'warn',
      msg: 'deployment in trouble',
      deployment: 'prod',
      code: 'TRANSPORT',
      attempts: TROUBLE_AFTER_MS / 500 + 1,
    });
    expect(end).toMatchObject({
      level: 'info',
      msg: 'deployment recovered',
      deployment: 'prod',
      downMs: 30_000,
      down: '30s',
      attempts: 60,
    });
  });

  it('says nothing of faults among good answers, of short trouble, or of errors about one job', async () => {
    const { health, lines, up, advance } = setup();
    for (let i = 0; i < 200; i++) {
      if (i % 5 === 0) health.failed('TRANSPORT', 'reset');
      else health.ok();
      advance(100);
    }
    for (let i = 0; i < 2; i++) {
      health.failed('TRANSPORT', 'reset');
      advance(10_000); // long, but two attempts only
    }
    health.ok();
    for (let i = 0; i < 20; i++) {
      health.failed('JOB_NOT_FOUND', 'purged');
      health.failed('ABORTED', 'stopped watching');
      advance(1_000);
    }
    expect(troubleLines(lines)).toEqual([]);
    expect(await up()).toBe(1);
  });
});
