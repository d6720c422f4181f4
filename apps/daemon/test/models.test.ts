/**
 * The duration model in the daemon: learned from the jobs it watches, served at
 * `GET /api/models`, kept in the store across a restart; a stored kind it cannot read is
 * skipped with a warning and loses nothing else.
 */
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { type RunningServer, startServer } from '../src/serve.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { tempDir } from './helpers.js';

const KEY = 'a-model-test-key-of-length';
const EDIT = '/arcgis/admin/services/Hydro/Roads.MapServer/edit';

let sim: Simulator;
let t: ReturnType<typeof tempDir>;
const lines: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 17 });
  t = tempDir();
});

afterAll(async () => {
  await sim.close();
  t.cleanup();
});

const start = () =>
  startServer({
    config: resolveServeConfig(
      {
        config: t.file(
          'config.yaml',
          [
            'listen: 127.0.0.1:0',
            `dataDir: ${t.dir}/data`,
            `apiKeys: [${KEY}]`,
            'deployments:',
            '  - name: site',
            `    url: ${sim.adminUrl}`,
            '    username: admin',
            '    passwordEnv: PW',
            '    pacing: { minInterval: 50ms, maxInterval: 200ms }',
          ].join('\n'),
        ),
      },
      { PW: 'admin' },
    ),
    logger: createLogger({
      level: 'info',
      destination: { write: (l: string) => lines.push(l) },
    }),
  });

const auth = { authorization: `Bearer ${KEY}` };

interface Models {
  version: number;
  kinds: Array<{
    source: string;
    deployment: string;
    operation: string;
    sketch: { count: number };
    summary: { samples: number; p10: number; median: number; p90: number };
  }>;
}

const models = async (server: RunningServer) =>
  (await (await fetch(`${server.url}/api/models`, { headers: auth })).json()) as Models;

const state = async (server: RunningServer, id: string) =>
  (
    (await (await fetch(`${server.url}/api/jobs/${id}`, { headers: auth })).json()) as {
      state?: string;
    }
  ).state;

/** Watches a job of `durationMs` through the API and runs it to COMPLETED. */
async function runJob(server: RunningServer, durationMs: number): Promise<void> {
  const id = sim.createJob({ outcome: 'COMPLETED', durationMs, operation: EDIT });
  const res = await fetch(`${server.url}/api/jobs`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ jobid: id }),
  });
  expect(res.status).toBe(201);
  // Seen running before it ends: only then does its duration count.
  await expect.poll(() => sim.stats().byJob[id] ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
  sim.advance(durationMs);
  await expect.poll(() => state(server, id), { timeout: 10_000 }).toBe('finished');
}

it('learns from the jobs it watches, serves the model, and keeps it across a restart', async () => {
  const first = await start();
  try {
    expect((await fetch(`${first.url}/api/models`)).status).toBe(401);
    expect(await models(first)).toEqual({ version: 1, relativeAccuracy: 0.02, kinds: [] });
    await runJob(first, 40_000);
    await runJob(first, 50_000);
    const learned = await models(first);
    expect(learned.kinds).toHaveLength(1);
    expect(learned.kinds[0]).toMatchObject({
      source: 'admin',
      deployment: 'site',
      operation: 'services/hydro/roads.mapserver/edit',
      sketch: { count: 2 },
      summary: { samples: 2, p10: 40_000, p90: 50_000 },
    });
  } finally {
    await first.close();
  }
  const second = await start();
  try {
    expect((await models(second)).kinds[0]).toMatchObject({ summary: { samples: 2 } });
    await runJob(second, 45_000);
    expect((await models(second)).kinds[0]).toMatchObject({ summary: { samples: 3 } });
  } finally {
    await second.close();
  }
});

it('skips a stored kind it cannot read, with a warning, and keeps the others', async () => {
  const store = openSqliteStore({ dataDir: `${t.dir}/data` });
  try {
    await store.saveModelKind('admin:site:services/broken', '{"source": "admin"', 1);
  } finally {
    await store.close();
  }
  lines.length = 0;
  const server = await start();
  try {
    const kinds = (await models(server)).kinds;
    expect(kinds.map((k) => k.operation)).toEqual(['services/hydro/roads.mapserver/edit']);
    const warning = lines.find((l) => l.includes('could not be read'));
    expect(warning).toMatch(/admin:site:services\/broken/);
  } finally {
    await server.close();
  }
});
