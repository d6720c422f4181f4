import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  parseSimulatorArgs,
  runSimulatorCli,
  SIMULATOR_USAGE,
  type Simulator,
} from '../src/index.js';
import { type Body, getJson, postForm } from './helpers.js';

describe('parseSimulatorArgs', () => {
  it('reads every flag into options', () => {
    expect(
      parseSimulatorArgs([
        '--port',
        '8080',
        '--host',
        '127.0.0.2',
        '--context',
        'portal',
        '--seed',
        '9',
        '--speed',
        '60',
        '--user',
        'admin:pw:with:colons',
        '--user',
        'ops:x',
        '--retention',
        '2h',
        '--token-ttl',
        '90s',
        '--jobs-per-minute',
        '12',
        '--min-duration',
        '500ms',
        '--max-duration',
        '5m',
        '--failure-rate',
        '0.3',
        '--cancel-rate',
        '0.1',
        '--quiet',
      ]),
    ).toEqual({
      quiet: true,
      port: 8080,
      host: '127.0.0.2',
      context: 'portal',
      seed: 9,
      clock: { speed: 60 },
      users: { admin: 'pw:with:colons', ops: 'x' },
      retentionMs: 7_200_000,
      tokenTtlMs: 90_000,
      workload: {
        jobsPerMinute: 12,
        minDurationMs: 500,
        maxDurationMs: 300_000,
        failureRate: 0.3,
        cancelRate: 0.1,
      },
    });
    expect(parseSimulatorArgs([])).toEqual({ quiet: false });
    expect(parseSimulatorArgs(['--manual-clock', '--no-control'])).toEqual({
      quiet: false,
      clock: 'manual',
      control: false,
    });
    expect(parseSimulatorArgs(['--help'])).toBeUndefined();
  });

  it.each([
    [['--port', 'eighty']],
    [['--port', '70000']],
    [['--user', 'nopassword']],
    [['--user', ':pw']],
    [['--speed', '0']],
    [['--speed', '2', '--manual-clock']],
    [['--retention', 'forever']],
    [['--failure-rate', '0.5']],
    [['--jobs-per-minute', '10', '--failure-rate', '1.5']],
    [['--unknown']],
    [['positional']],
    [['--quirks=noSuchQuirk']],
    [['--quirks=']],
    [['--token-header', 'cookie']],
    [['--token-header']],
  ])('refuses %j with INVALID_OPTIONS', (argv) => {
    expect(() => parseSimulatorArgs(argv)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});

describe('quirks and token-header flags', () => {
  it('reads --quirks as every quirk, --quirks=<names> as those, and --token-header as the mode', () => {
    expect(parseSimulatorArgs(['--quirks', '--quiet'])).toEqual({ quiet: true, quirks: true });
    expect(parseSimulatorArgs(['--quirks=errorStatus, nullUsername'])).toEqual({
      quiet: false,
      quirks: ['nullUsername', 'errorStatus'],
    });
    for (const mode of ['both', 'x-esri-authorization', 'authorization'])
      expect(parseSimulatorArgs(['--token-header', mode])).toEqual({
        quiet: false,
        tokenHeader: mode,
      });
    expect(SIMULATOR_USAGE).toContain('--quirks[=<names>]');
    expect(SIMULATOR_USAGE).toContain('stringTimestamps');
  });

  it('starts a simulator with quirks on that reads only the asked header', async () => {
    let stop!: () => void;
    let ready!: (s: Simulator) => void;
    const started = new Promise<Simulator>((resolve) => (ready = resolve));
    const err: string[] = [];
    const code = runSimulatorCli(['--quiet', '--quirks', '--token-header', 'authorization'], {
      out: () => {},
      err: (l) => err.push(l),
      stop: new Promise<void>((r) => (stop = r)),
      onReady: ready,
    });
    const sim = await started;
    expect(sim.quirks().length).toBeGreaterThan(10);
    expect(sim.tokenHeader()).toBe('authorization');
    const token = sim.issueToken();
    const url = `${sim.adminUrl}/jobs?f=json`;
    const other = await fetch(url, { headers: { 'x-esri-authorization': `Bearer ${token}` } });
    expect(((await other.json()) as Body).error.code).toBe(499);
    const right = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(await right.json()).toHaveProperty('jobs');
    stop();
    expect(await code).toBe(0);
    expect(err[0]).toMatch(/; quirks: all; token only in authorization$/);
  });
});

describe('runSimulatorCli', () => {
  it("prints the admin URL first (then the other sources' URLs), logs requests without secrets, and stops cleanly", async () => {
    const out: string[] = [];
    const err: string[] = [];
    let stop!: () => void;
    let ready!: (s: Simulator) => void;
    const started = new Promise<Simulator>((resolve) => (ready = resolve));
    const code = runSimulatorCli(
      ['--seed', '5', '--user', 'ops:hunter2', '--portal-context', 'gis'],
      {
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        stop: new Promise<void>((r) => (stop = r)),
        onReady: ready,
      },
    );
    const sim = await started;
    expect(out).toEqual([sim.adminUrl, sim.serverAdminUrl, sim.restUrl, sim.portalUrl]);
    expect(sim.portalUrl).toBe(`${sim.url}/gis`);
    expect(sim.restUrl).toBe(`${sim.url}/server/rest/services`);
    const { token } = await postForm(sim.tokenUrl, { username: 'ops', password: 'hunter2' });
    expect((await getJson(`${sim.adminUrl}/jobs`, { token })).jobs).toEqual([]);
    stop();
    expect(await code).toBe(0);
    const log = err.join('\n');
    expect(log).toMatch(/POST \/arcgis\/sharing\/rest\/generateToken 200/);
    expect(log).toMatch(/GET \/arcgis\/admin\/jobs 200/);
    expect(log).not.toContain('hunter2');
    expect(log).not.toContain(token);
    expect(err.at(-1)).toBe('jobwatch-sim: stopped');
  });

  it('stops on SIGTERM by default', async () => {
    // Only the runner's own listener may see this emitted signal, not the test worker's.
    const others = process.listeners('SIGTERM');
    process.removeAllListeners('SIGTERM');
    const sigints = process.listenerCount('SIGINT');
    try {
      let ready!: (s: Simulator) => void;
      const started = new Promise<Simulator>((resolve) => (ready = resolve));
      const code = runSimulatorCli(['--quiet'], { out: () => {}, err: () => {}, onReady: ready });
      await started;
      expect(process.listenerCount('SIGTERM')).toBe(1);
      process.emit('SIGTERM');
      expect(await code).toBe(0);
      expect(process.listenerCount('SIGTERM')).toBe(0);
      expect(process.listenerCount('SIGINT')).toBe(sigints);
    } finally {
      for (const listener of others) process.on('SIGTERM', listener);
    }
  });

  it('answers exit code 2 with the usage on a bad flag, 0 with the usage for --help, 1 when the port is taken', async () => {
    const err: string[] = [];
    expect(await runSimulatorCli(['--port', 'x'], { err: (l) => err.push(l) })).toBe(2);
    expect(err.join('\n')).toContain(SIMULATOR_USAGE);
    const out: string[] = [];
    expect(await runSimulatorCli(['--help'], { out: (l) => out.push(l) })).toBe(0);
    expect(out).toEqual([SIMULATOR_USAGE]);
    let ready!: (s: Simulator) => void;
    let stop!: () => void;
    const started = new Promise<Simulator>((resolve) => (ready = resolve));
    const first = runSimulatorCli(['--quiet'], {
      out: () => {},
      err: () => {},
      stop: new Promise<void>((r) => (stop = r)),
      onReady: ready,
    });
    const sim = await started;
    const taken: string[] = [];
    expect(
      await runSimulatorCli(['--port', String(sim.port)], {
        out: () => {},
        err: (l) => taken.push(l),
        stop: new Promise(() => {}),
      }),
    ).toBe(1);
    expect(taken.join('\n')).toMatch(/could not start: .*EADDRINUSE/);
    stop();
    await first;
  });

  it('runs as the jobwatch-sim bin: admin URL on the first line of stdout, clean stop on SIGINT', async () => {
    const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', bin, '--seed', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    expect(first).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/arcgis\/admin$/);
    expect((await getJson(`${first}/jobs`)).error.code).toBe(499);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 20_000);
});
