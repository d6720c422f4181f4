/**
 * The built CLI (`node dist/main.js`) as a child process against an in-process simulator with
 * a manual clock: every exit code of `wait` by a real scenario.
 */

import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { run, start } from './process.js';

const PASSWORD = 'correct-horse-battery-staple';
let sim: Simulator;
let env: Record<string, string>;
let t: ReturnType<typeof tempDir>;
let passFile: string;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', users: { admin: PASSWORD }, seed: 42 });
  t = tempDir();
  passFile = t.file('password', `${PASSWORD}\n`);
  env = { JOBWATCH_URL: sim.adminUrl, JOBWATCH_USERNAME: 'admin', JOBWATCH_PASSWORD: PASSWORD };
});
afterAll(async () => {
  await sim.close();
  t.cleanup();
});

/** A job that has already ended the given way when first polled. */
function ended(outcome: 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMED OUT'): string {
  const id = sim.createJob({
    outcome,
    durationMs: 1_000,
    operation: '/arcgis/admin/services/Roads.MapServer/edit',
  });
  sim.advance(1_000);
  return id;
}

/** A job that runs until the clock is advanced by an hour. */
const running = () => sim.createJob({ outcome: 'COMPLETED', durationMs: 3_600_000 });

const polls = (id: string) => sim.stats().byJob[id] ?? 0;

async function until(check: () => boolean): Promise<void> {
  await expect.poll(check, { timeout: 20_000, interval: 20 }).toBe(true);
}

describe('jobwatch wait', () => {
  it('exits 0 when every job COMPLETED, printing a plain line per change when piped', async () => {
    const a = ended('COMPLETED');
    const b = ended('COMPLETED');
    const r = await run(['wait', a, b], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${a}  COMPLETED`);
    expect(r.stdout).toMatch(/edit Roads\.MapServer/);
    expect(r.stdout).not.toMatch(/\x1b\[/); // no terminal control sequences when piped
  });

  it('exits 1 for FAILED and for TIMED OUT', async () => {
    expect((await run(['wait', ended('FAILED')], env)).code).toBe(1);
    expect((await run(['wait', ended('TIMED OUT')], env)).code).toBe(1);
  });

  it('exits 3 for CANCELLED', async () => {
    expect((await run(['wait', ended('CANCELLED')], env)).code).toBe(3);
  });

  it('exits 4 when --timeout runs out', async () => {
    const r = await run(['wait', running(), '--timeout', '300ms'], env);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/WAIT_TIMEOUT/);
  });

  it('exits 5 for a job the server does not know', async () => {
    const r = await run(['wait', 'j00000000-0000-4000-8000-00000000dead'], env);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/j00000000-0000-4000-8000-00000000dead: .*\(JOB_NOT_FOUND\)/);
  });

  it('exits 5 when the credentials are refused, without printing the password', async () => {
    const r = await run(
      [
        'wait',
        ended('COMPLETED'),
        '--username',
        'admin',
        '--password-file',
        t.file('wrong', 'not-the-password\n'),
      ],
      { JOBWATCH_URL: sim.adminUrl },
    );
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/AUTH/);
    expect(r.stdout + r.stderr).not.toContain('not-the-password');
  });

  it('takes the worst outcome by the fixed precedence', async () => {
    expect(
      (await run(['wait', ended('COMPLETED'), ended('CANCELLED'), ended('FAILED')], env)).code,
    ).toBe(1);
    expect((await run(['wait', ended('CANCELLED'), ended('COMPLETED')], env)).code).toBe(3);
    expect(
      (await run(['wait', ended('FAILED'), 'j00000000-0000-4000-8000-00000000beef'], env)).code,
    ).toBe(5);
  });

  it('exits 130 and says so when interrupted before every job ended, keeping what ended', async () => {
    const done = ended('FAILED');
    const id = running();
    const p = start(['wait', done, id], env);
    await p.waitFor((out) => out.includes(`${id}  SUBMITTED`) || out.includes(`${id}  EXECUTING`));
    p.child.kill('SIGINT');
    expect(await p.exit).toBe(130);
    expect(p.stdout).toContain(`${done}  FAILED`);
    expect(p.stderr).toContain(`jobwatch: ${done} FAILED:`);
    expect(p.stderr.trimEnd().split('\n').at(-1)).toBe('jobwatch: interrupted');
  });

  it('prints one Snapshot JSON object per line per change with --json', async () => {
    const id = running();
    const p = start(['wait', id, '--json', '--password-file', passFile], {
      JOBWATCH_URL: sim.adminUrl,
      JOBWATCH_USERNAME: 'admin',
    });
    await p.waitFor((out) => out.includes('"EXECUTING"') || out.includes('"SUBMITTED"'));
    sim.advance(3_600_000);
    expect(await p.exit).toBe(0);
    const lines = p.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((s) => s.version === 1 && s.jobid === id)).toBe(true);
    expect(lines.at(-1)).toMatchObject({
      status: 'COMPLETED',
      terminal: true,
      outcome: 'succeeded',
    });
    expect(p.stdout + p.stderr).not.toContain(PASSWORD);
  });

  it('keeps waiting when the token expires mid-wait', async () => {
    const id = running();
    const tokensBefore = sim.stats().byRoute.generateToken ?? 0;
    const p = start(['wait', id, '--json'], env);
    await until(() => polls(id) >= 1);
    sim.revokeTokens();
    const seen = polls(id);
    await until(() => polls(id) >= seen + 2);
    sim.advance(3_600_000);
    expect(await p.exit).toBe(0);
    expect(sim.stats().byRoute.generateToken ?? 0).toBeGreaterThanOrEqual(tokensBefore + 2);
    expect(JSON.parse(p.stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({
      status: 'COMPLETED',
    });
  });

  it('keeps waiting through faults mid-wait', { timeout: 90_000 }, async () => {
    const id = running();
    const p = start(['wait', id, '--json'], env);
    await until(() => polls(id) >= 1);
    // Every kind of fault in turn, each followed by a good answer: the wait goes on through
    // each, driven by what the simulator saw rather than by time.
    const kinds = ['http502', 'reset', 'malformed', 'http503', 'truncated', 'empty'] as const;
    const injected = (kind: string) => sim.stats().faults[kind] ?? 0;
    for (const kind of kinds) {
      const before = injected(kind);
      sim.setFaults({ rate: 1, kinds: [kind], paths: [`/arcgis/admin/jobs/${id}`] });
      await until(() => injected(kind) > before);
      sim.clearFaults();
      const faulted = polls(id);
      await until(() => polls(id) > faulted);
    }
    expect(p.child.exitCode).toBeNull();
    sim.advance(3_600_000);
    expect(await p.exit).toBe(0);
    expect(JSON.parse(p.stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({
      status: 'COMPLETED',
    });
  });
});

describe('usage and configuration errors exit 2 before any request', () => {
  const cases: Array<[string, string[], Record<string, string> | 'url only' | undefined, RegExp]> =
    [
      ['no job id', ['wait'], undefined, /missing required argument/],
      ['a hostile job id', ['wait', '../services/x'], undefined, /job id "\.\.\/services\/x"/],
      ['a job id with a query', ['wait', 'j1?f=html'], undefined, /job id/],
      [
        'a duration without unit',
        ['wait', 'j1', '--timeout', '90'],
        undefined,
        /--timeout: "90" has no unit/,
      ],
      ['missing credentials', ['wait', 'j1'], 'url only', /no credentials/],
      [
        'an unreadable password file',
        ['wait', 'j1', '--username', 'admin', '--password-file', '/nonexistent/pass'],
        'url only',
        /--password-file: cannot read/,
      ],
      [
        'a bad URL',
        ['wait', 'j1', '--url', 'gis.example.com/admin', '--token', 't'],
        {},
        /--url: .* is not a URL/,
      ],
      ['an unknown flag', ['wait', 'j1', '--colour'], undefined, /unknown option/],
      ['an unknown command', ['frobnicate'], undefined, /unknown command/],
    ];
  it.each(cases)('%s', async (_name, args, overrides, message) => {
    const before = sim.stats().total;
    const r = await run(
      args,
      overrides === 'url only' ? { JOBWATCH_URL: sim.adminUrl } : (overrides ?? env),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(sim.stats().total).toBe(before);
  });

  it('prints help with examples and the version', async () => {
    const help = await run(['wait', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:/);
    expect(help.stdout).toMatch(/Exit codes: 0 all COMPLETED/);
    const version = await run(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('jobwatch watch', () => {
  it('prints one JSON line per change until the named jobs end', async () => {
    const id = running();
    const p = start(['watch', id], env);
    await p.waitFor((out) => out.includes(id));
    sim.advance(3_600_000);
    expect(await p.exit).toBe(0);
    const statuses = p.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).status);
    expect(statuses.at(-1)).toBe('COMPLETED');
  });

  it('with --discover adds new jobs until interrupted, then exits 0', async () => {
    const p = start(['watch', '--discover', '--list-interval', '200ms'], env);
    const fresh = running();
    await p.waitFor((out) => out.includes(fresh));
    p.child.kill('SIGINT');
    expect(await p.exit).toBe(0);
  });
});

describe('jobwatch sim', () => {
  it("prints the admin URL first, then the other sources' URLs, and stops cleanly on SIGTERM", async () => {
    const p = start(['sim', '--port', '0', '--quiet']);
    await p.waitFor((out) => out.split('\n').length > 4);
    const [admin, server, rest, portal] = p.stdout.split('\n');
    expect(admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/arcgis\/admin$/);
    const origin = new URL(admin ?? '').origin;
    expect([server, rest, portal]).toEqual([
      `${origin}/server/admin`,
      `${origin}/server/rest/services`,
      `${origin}/portal`,
    ]);
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  });

  it("passes the simulator's --quirks and --token-header through", async () => {
    const p = start(['sim', '--quiet', '--quirks=errorStatus', '--token-header', 'authorization']);
    await p.waitFor((out) => out.includes('\n'));
    const adminUrl = p.stdout.split('\n')[0] ?? '';
    const origin = new URL(adminUrl).origin;
    const quirks = await fetch(`${origin}/__sim/quirks`);
    expect(await quirks.json()).toEqual({ quirks: ['errorStatus'] });
    const { token } = (await (
      await fetch(`${origin}/__sim/tokens`, { method: 'POST' })
    ).json()) as {
      token: string;
    };
    const other = await fetch(`${adminUrl}/jobs?f=json`, {
      headers: { 'x-esri-authorization': `Bearer ${token}` },
    });
    expect(((await other.json()) as { error: { code: number } }).error.code).toBe(499);
    const right = await fetch(`${adminUrl}/jobs?f=json`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await right.json()).toEqual({ jobs: [] });
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  });
});
