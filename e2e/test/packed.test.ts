/**
 * jobwatch as users get it: every public package packed (`pnpm pack`, so `workspace:*` becomes
 * a version and only `files` ship), the tarballs installed with plain npm into a fresh
 * project outside the workspace, and there:
 * - `npx jobwatch --help`; `jobwatch sim` (its admin URL read from its first line) and
 *   `jobwatch wait` on one of its jobs, exiting 0;
 * - a Node ESM script that imports `@jobwatch/rx` and follows a job to its end;
 * - a page built by Vite that imports `@jobwatch/widget/define` and shows a live job from
 *   `jobwatch serve` in Chromium;
 * - the single-file bundle, resolved through the package's `exports`, loaded from a plain
 *   `<script type="module">` and showing a live job in direct mode.
 *
 * The project depends only on what a user would install (the daemon, rx, client, widget,
 * vite); schema and simulator come in through the packages' own `dependencies`, so a
 * missing file, a wrong `exports` entry or a dependency that is only a dev one in the
 * workspace fails here. The simulator runs on a manual clock: each check sees a job running,
 * moves the clock, and sees it end.
 *
 * One install serves every check; npm is asked to prefer its cache (`--prefer-offline`).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Chromium, launchChromium, serveDaemon } from '@jobwatch/test-utils';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PageServer, startPageServer, waitFor } from '../src/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('../fixtures/packed/', import.meta.url));

/** What a user installs by name; everything else must come through `dependencies`. */
const ROOTS = ['@jobwatch/daemon', '@jobwatch/rx', '@jobwatch/client', '@jobwatch/widget'];
const PASSWORD = 'admin';

interface Workspace {
  readonly name: string;
  readonly dir: string;
}

/** Every package under packages/ and apps/ that is not private: what gets published. */
function publicPackages(): Workspace[] {
  return ['packages', 'apps']
    .flatMap((group) => readdirSync(join(root, group)).map((d) => join(root, group, d)))
    .flatMap((dir) => {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
        return pkg.private ? [] : [{ name: pkg.name as string, dir }];
      } catch {
        return [];
      }
    });
}

/**
 * The environment a user's shell would have: none of the variables pnpm, turbo and vitest set
 * for their children (a user agent that makes npm think pnpm runs it, `NODE_ENV=test`, …).
 */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_(?!config_(registry|cache)$)|pnpm_|turbo_|vitest)/i.test(key)) continue;
    if (key === 'NODE_ENV' || key === 'INIT_CWD' || key === 'TEST' || key === 'NODE_OPTIONS')
      continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command to its end; throws with everything it printed when it fails. */
function run(cmd: string, args: string[], cwd: string, env = userEnv()): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) {
    throw new Error(
      `\`${cmd} ${args.join(' ')}\` in ${cwd} exited ${r.status ?? r.signal}:\n${r.stdout}${r.stderr}`,
    );
  }
  return r.stdout;
}

/** A child process whose output is kept line by line. */
class Child {
  readonly lines: string[] = [];
  readonly errors: string[] = [];
  readonly exit: Promise<number | string>;
  readonly #child: ChildProcess;

  constructor(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
    this.#child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exit = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
    );
    this.#child.once('error', (error) => this.errors.push(String(error)));
    const keep = (into: string[]) => {
      let partial = '';
      return (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        into.push(...parts);
      };
    };
    this.#child.stdout?.setEncoding('utf8').on('data', keep(this.lines));
    this.#child.stderr?.setEncoding('utf8').on('data', keep(this.errors));
  }

  /** Everything it printed so far, for failure messages. */
  get output(): string {
    return [...this.lines, ...this.errors].join('\n');
  }

  /** Resolves with the exit code, or fails naming what it printed after `ms`. */
  async exited(ms: number): Promise<number | string> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`still running after ${ms} ms; printed:\n${this.output}`)),
        ms,
      );
    });
    try {
      return await Promise.race([this.exit, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      await this.exit;
    }
  }
}

let work: string;
let project: string;
let bin: (name: string) => string;
let sim: Child | undefined;
let adminUrl: string;
let simOrigin: string;

/** Asks the simulator's control surface (JSON, no Origin, as a script would). */
async function control(path: string, body: unknown): Promise<unknown> {
  const answer = await fetch(`${simOrigin}/__sim${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`POST /__sim${path}: HTTP ${answer.status} ${text}`);
  return JSON.parse(text);
}

/** A job on the simulator that completes after `durationMs` of its (manual) clock. */
async function createJob(durationMs = 60_000): Promise<string> {
  const { jobid } = (await control('/jobs', { outcome: 'COMPLETED', durationMs })) as {
    jobid: string;
  };
  return jobid;
}

const advance = (ms: number) => control('/clock/advance', { ms });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'jobwatch-packed-'));
  const tarballs = join(work, 'tarballs');
  project = join(work, 'project');
  bin = (name) => join(project, 'node_modules', '.bin', name);

  const packages = publicPackages();
  const packed = JSON.parse(
    run(
      'pnpm',
      [
        '--recursive',
        ...packages.flatMap((p) => ['--filter', p.name]),
        'pack',
        '--pack-destination',
        tarballs,
        '--json',
      ],
      root,
      { ...process.env },
    ),
  ) as { name: string; filename: string }[];
  expect(packed.map((p) => p.name).sort()).toEqual(packages.map((p) => p.name).sort());

  const widget = JSON.parse(readFileSync(join(root, 'apps/widget/package.json'), 'utf8'));
  const file = (name: string) => `file:${packed.find((p) => p.name === name)?.filename}`;
  cpSync(fixtures, project, { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify(
      {
        name: 'jobwatch-as-installed',
        private: true,
        type: 'module',
        dependencies: {
          ...Object.fromEntries(ROOTS.map((name) => [name, file(name)])),
          vite: widget.devDependencies.vite,
        },
        // The packages' dependencies on each other ask for a version that is not on the
        // registry yet: point them at the tarballs.
        overrides: Object.fromEntries(
          packed.map(({ name }) => [name, ROOTS.includes(name) ? `$${name}` : file(name)]),
        ),
      },
      null,
      2,
    )}\n`,
  );
  run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
    project,
  );

  sim = new Child(bin('jobwatch'), ['sim', '--manual-clock', '--quiet'], project, userEnv());
  adminUrl = await waitFor(() => sim?.lines[0], {
    timeoutMs: 15_000,
    what: () => `\`jobwatch sim\` to print its admin URL; it printed:\n${sim?.output}`,
  });
  expect(adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/arcgis\/admin$/);
  simOrigin = new URL(adminUrl).origin;
}, 300_000);

afterAll(async () => {
  await sim?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed packages, installed with npm', () => {
  it('npx jobwatch --help lists the commands, and --version is the package version', () => {
    const help = run('npx', ['--no', '--', 'jobwatch', '--help'], project);
    for (const command of ['wait', 'watch', 'serve', 'sim']) expect(help).toContain(command);
    const { version } = JSON.parse(
      readFileSync(join(project, 'node_modules/@jobwatch/daemon/package.json'), 'utf8'),
    );
    expect(run('npx', ['--no', '--', 'jobwatch', '--version'], project).trim()).toBe(version);
  });

  it('jobwatch wait follows a job of jobwatch sim to COMPLETED and exits 0', async () => {
    const jobid = await createJob();
    const wait = new Child(
      bin('jobwatch'),
      ['wait', jobid, '--url', adminUrl, '--username', 'admin', '--timeout', '1m'],
      project,
      userEnv({ JOBWATCH_PASSWORD: PASSWORD }),
    );
    try {
      await waitFor(() => wait.lines.some((l) => l.includes(jobid)), {
        timeoutMs: 15_000,
        what: () => `a first progress line; printed:\n${wait.output}`,
      });
      await advance(60_000);
      expect(await wait.exited(15_000), wait.output).toBe(0);
      expect(wait.lines.at(-1)).toMatch(new RegExp(`${jobid}\\s+COMPLETED`));
    } finally {
      await wait.stop();
    }
  });

  it('a Node ESM script follows a job to its end with @jobwatch/rx', async () => {
    const jobid = await createJob();
    const follow = new Child(
      process.execPath,
      ['follow.mjs', adminUrl, 'admin', jobid],
      project,
      userEnv({ JOBWATCH_PASSWORD: PASSWORD }),
    );
    try {
      await waitFor(() => follow.lines.length > 0, {
        timeoutMs: 15_000,
        what: () => `the first snapshot; printed:\n${follow.output}`,
      });
      expect(follow.lines[0]).toMatch(new RegExp(`^${jobid} (SUBMITTED|EXECUTING)$`));
      await advance(60_000);
      // It exits by itself: nothing of rx's is left holding the event loop.
      expect(await follow.exited(15_000), follow.output).toBe(0);
      expect(follow.lines.slice(-2)).toEqual([`${jobid} COMPLETED`, 'done']);
    } finally {
      await follow.stop();
    }
  });

  describe('in Chromium', () => {
    let chromium: Chromium;

    beforeAll(async () => {
      chromium = await launchChromium();
    });
    afterAll(async () => {
      await chromium?.close();
    });

    /** Opens `url`, sees the job running, ends it, and sees it COMPLETED on the page. */
    async function showsLiveJob(url: string): Promise<void> {
      const page: Page = await chromium.page();
      try {
        await page.goto(url);
        const job = page.locator('#job');
        const status = () => job.getAttribute('status');
        await waitFor(async () => ['SUBMITTED', 'EXECUTING'].includes((await status()) ?? ''), {
          timeoutMs: 15_000,
          what: () => `the job running on the page; errors: ${chromium.errors.join('; ')}`,
        });
        await advance(60_000);
        await waitFor(async () => (await status()) === 'COMPLETED', {
          timeoutMs: 15_000,
          what: () => `the job COMPLETED on the page; errors: ${chromium.errors.join('; ')}`,
        });
        expect(await job.getByText('Completed', { exact: true }).isVisible()).toBe(true);
        expect(chromium.errors).toEqual([]);
      } finally {
        await page.close();
      }
    }

    it('a page that Vite bundles from @jobwatch/widget/define shows a live job from jobwatch serve', async () => {
      run('npx', ['--no', '--', 'vite', 'build', '--logLevel', 'warn'], project);
      const daemon = await serveDaemon({ adminUrl, main: bin('jobwatch') });
      const auth = { authorization: `Bearer ${daemon.apiKey}` };
      let server: PageServer | undefined;
      try {
        server = await startPageServer({
          static: { '/': join(project, 'dist') },
          proxy: { '/api/': daemon.url },
          routes: {
            '/ticket': async (_req, res) => {
              const answer = await fetch(`${daemon.url}/api/tickets`, {
                method: 'POST',
                headers: auth,
              });
              res
                .writeHead(answer.status, { 'content-type': 'application/json' })
                .end(await answer.text());
            },
          },
        });
        const jobid = await createJob();
        const watched = await fetch(`${daemon.url}/api/jobs`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ jobid }),
        });
        expect(watched.status, await watched.text()).toBe(201);
        await showsLiveJob(`${server.url}/?job=${jobid}`);
      } finally {
        await server?.close();
        await daemon.stop();
      }
    });

    it('the single-file bundle from a plain <script type="module"> shows a live job in direct mode', async () => {
      const plain = join(project, 'plain');
      for (const entry of ['@jobwatch/widget/bundle', '@jobwatch/widget/bundle/direct']) {
        const resolved = run(
          process.execPath,
          ['--input-type=module', '-e', `console.log(import.meta.resolve('${entry}'))`],
          project,
        ).trim();
        const path = fileURLToPath(resolved);
        copyFileSync(path, join(plain, path.split('/').at(-1) ?? ''));
      }
      const server = await startPageServer({
        static: { '/': plain },
        proxy: { '/arcgis/': simOrigin },
        routes: {
          '/token': async (_req, res) => {
            const { token } = (await control('/tokens', {})) as { token: string };
            res
              .writeHead(200, { 'content-type': 'application/json' })
              .end(JSON.stringify({ token }));
          },
        },
      });
      try {
        await showsLiveJob(`${server.url}/?job=${await createJob()}`);
        expect(server.requests).toContain('/jobwatch-widget-direct.js');
      } finally {
        await server.close();
      }
    });
  });
});
