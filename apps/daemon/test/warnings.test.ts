/**
 * How the daemon reports what was not in its documented shape: one log line per
 * (deployment, place), a counter per place with list indices collapsed, a bounded label set.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics.js';
import { createWarningReporter, MAX_WARNING_LABELS, pointerLabel } from '../src/warnings.js';

function setup() {
  const lines: string[] = [];
  const metrics = createMetrics();
  const logger = createLogger({
    level: 'info',
    destination: { write: (l: string) => lines.push(l) },
  });
  const reporter = createWarningReporter({ logger, metrics });
  const counted = async () =>
    (await metrics.registry.metrics())
      .split('\n')
      .filter((l) => l.startsWith('jobwatch_schema_warnings_total{'));
  return { lines, metrics, reporter, counted };
}

const warning = (pointer: string) => ({ pointer, expected: 'a number or null', found: '"x"' });

describe('schema warnings in the daemon', () => {
  it.each([
    ['/starttime', '/starttime'],
    ['/messages/3', '/messages/*'],
    ['/result/service/extensions/12/enabled', '/result/service/extensions/*/enabled'],
    ['/jobs/0', '/jobs/*'],
    ['/result/service/properties/maxRecordCount', '/result/service/properties/maxRecordCount'],
  ])('labels %s as %s', (pointer, label) => {
    expect(pointerLabel(pointer)).toBe(label);
  });

  it('cuts a very long pointer', () => {
    expect(pointerLabel(`/result/${'x'.repeat(500)}`).length).toBeLessThanOrEqual(120);
  });

  it('logs each (deployment, place) once, counts every one, and never labels a job id', async () => {
    const { lines, reporter, counted } = setup();
    const prod = reporter.forDeployment('prod');
    for (const jobid of ['j1', 'j2', 'j3']) {
      prod({
        kind: 'job',
        url: `https://h/a/jobs/${jobid}`,
        jobid: jobid as never,
        warnings: [warning('/starttime'), warning('/messages/0'), warning('/messages/4')],
      });
    }
    reporter.forDeployment('lab')({
      kind: 'jobs',
      url: 'https://h/a/jobs',
      warnings: [warning('/jobs/2')],
    });
    expect(await counted()).toEqual([
      'jobwatch_schema_warnings_total{deployment="prod",pointer="/starttime"} 3',
      'jobwatch_schema_warnings_total{deployment="prod",pointer="/messages/*"} 6',
      'jobwatch_schema_warnings_total{deployment="lab",pointer="/jobs/*"} 1',
    ]);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.map((l) => [l.level, l.deployment, l.pointer])).toEqual([
      ['warn', 'prod', '/starttime'],
      ['warn', 'prod', '/messages/0'],
      ['warn', 'lab', '/jobs/2'],
    ]);
    expect(logged[0]).toMatchObject({ jobid: 'j1', body: 'job', found: '"x"' });
  });

  it('counts places beyond the label limit as "other", so a hostile server cannot grow the metrics', async () => {
    const { reporter, counted } = setup();
    const prod = reporter.forDeployment('prod');
    for (let i = 0; i < MAX_WARNING_LABELS + 50; i++) {
      prod({
        kind: 'service',
        url: 'https://h/a/services/S.MapServer',
        warnings: [warning(`/properties/k${i}`)],
      });
    }
    const lines = await counted();
    expect(lines).toHaveLength(MAX_WARNING_LABELS + 1);
    expect(lines.at(-1)).toBe(
      'jobwatch_schema_warnings_total{deployment="prod",pointer="other"} 50',
    );
  });

  it('counts unknown statuses by deployment and logs each status once', async () => {
    const { lines, metrics, reporter } = setup();
    for (const jobid of ['j1', 'j2']) {
      reporter.onUnknownStatus({ deployment: 'prod', jobid, status: 'PAUSED', policy: 'watch' });
    }
    expect(await metrics.registry.metrics()).toMatch(
      /jobwatch_unknown_statuses_total\{deployment="prod"\} 2\b/,
    );
    expect(lines.map((l) => JSON.parse(l).status)).toEqual(['PAUSED']);
  });
});
