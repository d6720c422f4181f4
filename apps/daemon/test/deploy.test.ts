/**
 * What operators load next to the daemon: `deploy/prometheus-rules.yaml` and
 * `deploy/grafana-dashboard.json`. Every metric they name is one the daemon exports, every
 * rule and every panel query is valid PromQL (`promtool`, Debian's `prometheus` package),
 * and the rules' own unit tests (`deploy/prometheus-rules.test.yaml`) pass.
 *
 * Without promtool the PromQL checks are skipped with a note, except under `CI=true`, where
 * a missing promtool fails (`.ci/run` installs it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createMetrics } from '../src/metrics.js';

const deploy = fileURLToPath(new URL('../deploy/', import.meta.url));
const RULES = join(deploy, 'prometheus-rules.yaml');
const RULE_TESTS = join(deploy, 'prometheus-rules.test.yaml');
const DASHBOARD = join(deploy, 'grafana-dashboard.json');

/** Every series name the daemon's registry exports (histograms as `_bucket`, `_sum`, `_count`). */
async function exportedNames(): Promise<Set<string>> {
  const metrics = createMetrics();
  const names = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    // prom-client types `type` as a numeric enum; at run time it is the name.
    if (String(metric.type) === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

/** The metric names a PromQL expression reads: ours and Node's (`jobwatch_`, `nodejs_`, `process_`). */
const namesIn = (expr: string): string[] =>
  [...expr.matchAll(/\b(?:jobwatch|nodejs|process)_[a-z0-9_]+\b/g)].map((m) => m[0]);

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (
  parseYaml(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);

interface Target {
  expr: string;
  datasource: { uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query: unknown }[] };
};
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, ...t })));

const promtool = spawnSync('promtool', ['--version']).status === 0;
const needPromtool = !promtool && process.env.CI === 'true';
if (!promtool && !needPromtool)
  console.warn('promtool not found (Debian package `prometheus`): the PromQL checks are skipped');

const work = mkdtempSync(join(tmpdir(), 'jobwatch-deploy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs promtool; fails with what it printed. */
function runPromtool(args: string[]): string {
  const r = spawnSync('promtool', args, { cwd: deploy, encoding: 'utf8' });
  expect(r.status, `promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
}

describe('deploy/prometheus-rules.yaml', () => {
  it('alerts on what the issue asks, each with a severity, a summary and a description', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'JobwatchDeploymentDown',
        'JobwatchNoDeploymentUp',
        'JobwatchWatchesFailing',
        'JobwatchWebhookBacklog',
        'JobwatchEventLoopLag',
      ]),
    );
    for (const rule of rules) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
  });

  it('names only metrics the daemon exports', async () => {
    const known = await exportedNames();
    for (const rule of rules)
      for (const name of namesIn(rule.expr))
        expect(known.has(name), `${rule.alert}: ${name}`).toBe(true);
  });

  it.skipIf(!promtool && !needPromtool)('passes promtool check rules', () => {
    expect(promtool, 'promtool is missing: .ci/run installs Debian’s prometheus package').toBe(
      true,
    );
    expect(runPromtool(['check', 'rules', RULES])).toMatch(/SUCCESS: \d+ rules found/);
  });

  it.skipIf(!promtool && !needPromtool)('passes its promtool unit tests', () => {
    expect(promtool, 'promtool is missing: .ci/run installs Debian’s prometheus package').toBe(
      true,
    );
    expect(runPromtool(['test', 'rules', RULE_TESTS])).toContain('SUCCESS');
  });
});

describe('deploy/grafana-dashboard.json', () => {
  it('is one importable dashboard: unique panel ids, a 24-column grid, one data source variable', () => {
    expect(dashboard.uid).toBe('jobwatch-daemon');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable, not a template
      if (p.type !== 'row') expect(p.datasource?.uid, p.title).toBe('${datasource}');
    }
    const variables = dashboard.templating.list.map((v) => v.name);
    expect(variables).toEqual(['datasource', 'job', 'instance', 'deployment']);
    for (const q of queries) {
      for (const [, name] of q.expr.matchAll(/\$(\w+)/g))
        expect([...variables, '__rate_interval'], `${q.panel.title}: $${name}`).toContain(name);
    }
  });

  it('charts only metrics the daemon exports, and every one of them', async () => {
    const exported = await exportedNames();
    const charted = new Set(queries.flatMap((q) => namesIn(q.expr)));
    for (const name of charted) expect(exported.has(name), name).toBe(true);
    for (const name of exported) {
      if (!name.startsWith('jobwatch_') || /_(sum|count)$/.test(name)) continue;
      const base = name.replace(/_bucket$/, '');
      expect(
        [...charted].some((c) => c.startsWith(base)),
        `${name} is on no panel`,
      ).toBe(true);
    }
  });

  it.skipIf(!promtool && !needPromtool)(
    'has only valid PromQL (checked by promtool as rules)',
    () => {
      expect(promtool, 'promtool is missing: .ci/run installs Debian’s prometheus package').toBe(
        true,
      );
      // Grafana's variables, as Grafana substitutes them, then every query as a recording rule.
      const file = join(work, 'dashboard-queries.yaml');
      const expand = (expr: string) =>
        expr.replaceAll('$__rate_interval', '5m').replace(/\$(job|instance|deployment)\b/g, '.*');
      writeFileSync(
        file,
        JSON.stringify({
          groups: [
            {
              name: 'dashboard',
              rules: queries.map((q, i) => ({
                record: `dashboard:query_${i}`,
                expr: expand(q.expr),
              })),
            },
          ],
        }),
      );
      expect(runPromtool(['check', 'rules', file])).toContain(
        `SUCCESS: ${queries.length} rules found`,
      );
    },
  );
});
