/**
 * Where `jobwatch wait` (the built CLI) gets its history: its own XDG cache file, which each
 * wait adds to, or a daemon's `GET /api/models`; what it cannot read is a warning, never a
 * failed wait.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DurationModel, type JobKind } from '@jobwatch/rx';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { run, start } from './process.js';

const EDIT = '/arcgis/admin/services/Roads.MapServer/edit';
const KIND: JobKind = {
  source: 'admin',
  deployment: 'default',
  operation: 'services/roads.mapserver/edit',
};
const KEY = 'a-daemon-key-for-the-test';

let sim: Simulator;
let env: Record<string, string>;
let t: ReturnType<typeof tempDir>;
let daemon: Server;
let daemonUrl: string;
const daemonAuth: Array<string | undefined> = [];

/**
 * A model that has seen `n` edits of Roads taking 2–3 s, on `deployment`. Short, because
 * the CLI paces by it in real time while the simulator's clock is moved by hand.
 */
function history(n: number, deployment = 'default'): DurationModel {
  const model = new DurationModel();
  for (let i = 0; i < n; i++) model.observe({ ...KIND, deployment }, 2000 + (1000 * i) / n);
  return model;
}

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 71 });
  t = tempDir();
  env = { JOBWATCH_URL: sim.adminUrl, JOBWATCH_TOKEN: sim.issueToken('admin', 3_600_000) };
  // A stand-in daemon: the model route, behind its key. It knows one deployment, "prod".
  daemon = createServer((req, res) => {
    daemonAuth.push(req.headers.authorization);
    if (req.url !== '/jw/api/models') return void res.writeHead(404).end();
    if (req.headers.authorization !== `Bearer ${KEY}`) return void res.writeHead(401).end();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(history(15, 'prod').toJSON({ summary: true })));
  });
  await new Promise<void>((r) => daemon.listen(0, '127.0.0.1', r));
  daemonUrl = `http://127.0.0.1:${(daemon.address() as AddressInfo).port}/jw`;
});

afterAll(async () => {
  await sim.close();
  await new Promise((r) => daemon.close(r));
  t.cleanup();
});

/** Waits for a 2.5-second edit with `--json`; returns the exit code, the snapshots and stderr. */
async function waitForEdit(extraEnv: Record<string, string>, args: string[] = []) {
  const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 2500, operation: EDIT });
  const p = start(['wait', id, '--json', ...args], { ...env, ...extraEnv });
  await expect.poll(() => sim.stats().byJob[id] ?? 0, { timeout: 20_000 }).toBeGreaterThan(0);
  // Seen running (its first snapshot printed) before it ends: only then does it teach.
  await expect.poll(() => p.stdout.includes('"status"'), { timeout: 20_000 }).toBe(true);
  sim.advance(2500);
  const code = await p.exit;
  const snapshots = p.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { status: string; eta?: { basis: number; overdue: boolean } });
  return { code, snapshots, stderr: p.stderr };
}

const cacheOf = (dir: string) =>
  DurationModel.fromJSON(JSON.parse(readFileSync(join(dir, 'jobwatch', 'models.json'), 'utf8')));

it('keeps a cache in XDG_CACHE_HOME that every wait reads and adds to', async () => {
  const cache = join(t.dir, 'xdg');
  mkdirSync(join(cache, 'jobwatch'), { recursive: true });
  writeFileSync(join(cache, 'jobwatch', 'models.json'), JSON.stringify(history(12)));
  const first = await waitForEdit({ XDG_CACHE_HOME: cache });
  expect(first.code).toBe(0);
  expect(first.snapshots[0]).toMatchObject({ status: 'SUBMITTED', eta: { basis: 12 } });
  expect(first.snapshots.at(-1)).toMatchObject({ status: 'COMPLETED' });
  expect(first.snapshots.at(-1)?.eta).toBeUndefined();
  expect(cacheOf(cache).samples(KIND)).toBe(13);
  const second = await waitForEdit({ XDG_CACHE_HOME: cache });
  expect(second.snapshots[0]?.eta).toMatchObject({ basis: 13 });
  expect(cacheOf(cache).samples(KIND)).toBe(14);
});

it('falls back to ~/.cache/jobwatch, and starts a cache where there is none', async () => {
  const home = join(t.dir, 'home');
  mkdirSync(home);
  const r = await waitForEdit({ HOME: home });
  expect(r.code).toBe(0);
  expect(r.snapshots[0]?.eta).toBeUndefined();
  expect(cacheOf(join(home, '.cache')).samples(KIND)).toBe(1);
});

it("reads a daemon's model with its key, and keeps its own cache apart", async () => {
  const cache = join(t.dir, 'xdg-daemon');
  const r = await waitForEdit({ XDG_CACHE_HOME: cache, JOBWATCH_DAEMON_KEY: KEY }, [
    '--daemon',
    daemonUrl,
  ]);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  expect(daemonAuth.at(-1)).toBe(`Bearer ${KEY}`);
  // The daemon knows one deployment: its kinds stand for this one.
  expect(r.snapshots[0]?.eta).toMatchObject({ basis: 15 });
  // What this wait learned goes to the cache; the daemon's history is not copied into it.
  expect(cacheOf(cache).samples(KIND)).toBe(1);
});

it('waits on when the daemon cannot be read, saying so', async () => {
  const cache = join(t.dir, 'xdg-down');
  const r = await waitForEdit({ XDG_CACHE_HOME: cache, JOBWATCH_DAEMON_URL: `${daemonUrl}x` });
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(
    /could not read the duration model from .*HTTP 404; using the local cache/,
  );
  expect(r.stderr).not.toContain(KEY);
});

it('moves an unreadable cache aside and starts a new one', async () => {
  const cache = join(t.dir, 'xdg-bad');
  mkdirSync(join(cache, 'jobwatch'), { recursive: true });
  writeFileSync(join(cache, 'jobwatch', 'models.json'), '{"version": 1, "kinds": "no"}');
  const r = await waitForEdit({ XDG_CACHE_HOME: cache });
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/could not be read \(Not a duration model: .*\); moved it to/);
  expect(existsSync(join(cache, 'jobwatch', 'models.json.unreadable'))).toBe(true);
  expect(cacheOf(cache).samples(KIND)).toBe(1);
});

it.each([
  ['credentials in the URL', 'http://user:secret@127.0.0.1:1/', /no credentials in the URL/],
  ['a key over plain http to another host', 'http://jobwatch.example.com/', /only over https/],
  ['something that is not a URL', 'not a url', /is not a URL/],
])('refuses a --daemon with %s (exit 2) before any request', async (_name, url, message) => {
  const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000, operation: EDIT });
  const r = await run(['wait', id, '--daemon', url], { ...env, JOBWATCH_DAEMON_KEY: KEY });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toContain('secret');
  expect(sim.stats().byJob[id] ?? 0).toBe(0);
});
